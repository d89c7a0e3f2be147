"""math.erfc of each number of the JSON list on stdin, as a JSON list (the reference of src/quant/normal.ts)."""
import json
import math
import sys

print(json.dumps([math.erfc(x) for x in json.load(sys.stdin)]))
