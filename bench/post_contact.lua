-- wrk script for benchmark (c) of bench/run.sh: POST /contacts with a Bearer token.
-- The token comes from the environment (ICTCORE_BENCH_TOKEN); run.sh obtains it from
-- POST /authentication. Phones need not be unique. No response() hook: it would make wrk
-- parse every body; run.sh reads wrk's "Non-2xx or 3xx responses" line instead.
local token = os.getenv("ICTCORE_BENCH_TOKEN")
if token == nil or token == "" then
  error("ICTCORE_BENCH_TOKEN is not set")
end

wrk.method = "POST"
wrk.path = "/contacts"
wrk.body = '{"first_name":"Bench","last_name":"Mark","phone":"+14155550123","email":"bench@example.com"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
