#!/bin/bash
# N5: second Ctrl-C during slow submit; dropped submit: record estimate has usd, equals --json estimate
. /work/qa/repro47/env.sh; cd /work/qa/repro47/w
M=bytedance/seedream-4-0/sequential
rm -rf n5a n5b n5c
$RC --base-url http://127.0.0.1:19103 --token-file $S/tok.txt run $M --text a --out n5a --json > n5a.json 2> n5a.err & P=$!
sleep 1; kill -INT $P; sleep 0.5; kill -INT $P; wait $P; echo "double ^C rc=$?"
cat n5a.err | tail -4
python3 - <<'PY'
import json,glob
j=json.load(open('n5a.json')); print('json status',j['status'], 'estimate usd', (j.get('estimate') or {}).get('usd'))
for f in glob.glob('n5a/runcomfy-record*.json'):
    r=json.load(open(f)); print(f, 'request_id', r.get('request_id'), 'estimate usd', (r.get('estimate') or {}).get('usd'), 'equal:', r.get('estimate')==j.get('estimate'))
PY
echo "-- single ^C during slow submit"
$RC --base-url http://127.0.0.1:19103 --token-file $S/tok.txt run $M --text a --out n5c --json > n5c.json 2> n5c.err & P=$!
sleep 1; kill -INT $P; wait $P; echo "single ^C rc=$?"; tail -3 n5c.err; python3 -c "import json;j=json.load(open('n5c.json'));print(j['status'],j.get('request_id'),(j.get('estimate') or {}).get('usd'))"
echo "-- dropped submit"
$RC --base-url http://127.0.0.1:19106 --token-file $S/tok.txt run $M --text a --out n5b --json > n5b.json 2> n5b.err; echo "dropped rc=$?"; tail -3 n5b.err
python3 - <<'PY'
import json,glob
j=json.load(open('n5b.json')); print('json status',j['status'], 'estimate usd', (j.get('estimate') or {}).get('usd'))
for f in glob.glob('n5b/runcomfy-record*.json'):
    r=json.load(open(f)); print(f, 'estimate usd', (r.get('estimate') or {}).get('usd'), 'equal:', r.get('estimate')==j.get('estimate'))
PY
echo "-- dropped submit, no --out"
cd n5dir 2>/dev/null || { mkdir n5dir; cd n5dir; }
$RC --base-url http://127.0.0.1:19106 --token-file $S/tok.txt run $M --text a --json > j.json 2> e; echo "rc=$?"; find . -name '*.json' | grep -v '^./j.json'
