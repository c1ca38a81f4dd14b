# Reference SigV4 signatures from botocore (the AWS SDK for Python's signer) for the requests
# described on stdin (one JSON object per line); prints one signature per line.
import json
import sys

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

for line in sys.stdin:
    r = json.loads(line)
    req = AWSRequest(method=r["method"], url=r["url"], headers=r["headers"])
    req.context["timestamp"] = r["amz_date"]
    auth = S3SigV4Auth(Credentials(r["access"], r["secret"]), "s3", r["region"])
    canonical = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canonical)
    print(auth.signature(sts, req))
