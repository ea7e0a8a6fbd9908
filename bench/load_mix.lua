-- wrk script of bench/load.sh: a fixed mix of reads, writes and sends against ictcore-server,
-- counting every response by status, for the issue 8 load figure (zero 5xx, zero socket errors).
--
-- Per wrk thread, requests follow a cycle of 20 slots: 12 reads (60 %: GET /contacts/{id},
-- a filtered and paged GET /contacts listing, GET /transmissions/{id}), 6 writes (30 %:
-- POST /contacts, PUT /contacts/{id}) and 2 sends (10 %: POST /transmissions, then
-- POST /transmissions/{id}/send of a transmission this thread created). wrk does not say which
-- request a response answers, so the two send steps are told apart by their bodies: a create
-- answers exactly {"transmission_id":N} (queued here for a later send slot), a send exactly
-- {"spool_id":N}.
--
-- Environment (set by load.sh): ICTCORE_LOAD_TOKEN (Bearer token of the user), ICTCORE_LOAD_CONTACTS
-- and ICTCORE_LOAD_PROGRAMS (comma-separated ids), ICTCORE_LOAD_TRANSMISSIONS (ids of
-- transmissions to read). With ICTCORE_LOAD_BASELINE=1 every request is GET / (for the
-- baseline server), with the same response() and done() so the client's own cost is the same.
--
-- done() prints "load: key=value ..." lines that load.sh parses; it judges, this only counts.

local function env_ids(name)
  local ids = {}
  for id in string.gmatch(os.getenv(name) or "", "%d+") do
    ids[#ids + 1] = id
  end
  return ids
end

local baseline = os.getenv("ICTCORE_LOAD_BASELINE") == "1"
local token = os.getenv("ICTCORE_LOAD_TOKEN") or ""
local contacts = env_ids("ICTCORE_LOAD_CONTACTS")
local programs = env_ids("ICTCORE_LOAD_PROGRAMS")
local transmissions = env_ids("ICTCORE_LOAD_TRANSMISSIONS")
if not baseline and (token == "" or #contacts == 0 or #programs == 0 or #transmissions == 0) then
  error("load_mix.lua: ICTCORE_LOAD_TOKEN, _CONTACTS, _PROGRAMS and _TRANSMISSIONS must be set")
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_no", #threads)
end

-- Per-thread state (each wrk thread has its own Lua state).
local slot = 0
local queue = {} -- transmission ids created by this thread, not yet sent
local queue_head, queue_tail = 1, 0
local seq = 0
local json_headers

count_1xx, count_2xx, count_3xx, count_4xx, count_5xx = 0, 0, 0, 0, 0
created, sent, unmatched_send_slots = 0, 0, 0
by_status = "" -- "code:count," for every non-2xx code seen
samples = "" -- the first non-2xx answers, for diagnosis
local codes = {}
local sample_count = 0

function init(args)
  math.randomseed(1000 + (thread_no or 0))
  json_headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
end

local function pick(list)
  return list[math.random(#list)]
end

local function contact_body()
  seq = seq + 1
  local n = (thread_no or 0) * 10000000 + seq
  return string.format(
    '{"first_name":"Load%d","last_name":"Mix","phone":"+1415%07d","email":"load%d@example.com"}',
    n, n % 10000000, n)
end

-- The 20-slot cycle: r = read, w = write, s = send.
local cycle = { "r1", "w1", "r2", "r3", "w2", "r1", "s", "r2", "w1", "r3",
                "r1", "w2", "r2", "r1", "w1", "r3", "s", "r1", "w2", "r2" }

function request()
  if baseline then
    return wrk.format("GET", "/")
  end
  slot = slot % #cycle + 1
  local kind = cycle[slot]
  if kind == "r1" then
    return wrk.format("GET", "/contacts/" .. pick(contacts), json_headers)
  elseif kind == "r2" then
    -- A filtered, paged listing: the filter is a substring of some first names.
    return wrk.format("GET", string.format("/contacts?first_name=Seed%d&limit=20&offset=%d",
      math.random(0, 9), math.random(0, 4) * 20), json_headers)
  elseif kind == "r3" then
    return wrk.format("GET", "/transmissions/" .. pick(transmissions), json_headers)
  elseif kind == "w1" then
    return wrk.format("POST", "/contacts", json_headers, contact_body())
  elseif kind == "w2" then
    -- Seed contact i is "Seed<i>" (load.sh lists them in id order): the update keeps that
    -- name, so the listing's filter keeps matching as many rows all along.
    local i = math.random(#contacts)
    seq = seq + 1
    return wrk.format("PUT", "/contacts/" .. contacts[i], json_headers, string.format(
      '{"first_name":"Seed%d","last_name":"Updated%d","phone":"+1415%07d","email":"seed%d@example.com"}',
      i, seq, 5550000 + i, i))
  end
  -- A send slot: send what this thread created, else create one.
  if queue_head <= queue_tail then
    local id = queue[queue_head]
    queue[queue_head] = nil
    queue_head = queue_head + 1
    return wrk.format("POST", "/transmissions/" .. id .. "/send", json_headers, "{}")
  end
  return wrk.format("POST", "/transmissions", json_headers,
    string.format('{"contact_id":%s,"program_id":%s}', pick(contacts), pick(programs)))
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    count_2xx = count_2xx + 1
    if not baseline and string.sub(body, 1, 2) == '{"' then
      local id = string.match(body, '^{"transmission_id":(%d+)}$')
      if id then
        created = created + 1
        queue_tail = queue_tail + 1
        queue[queue_tail] = id
      elseif string.match(body, '^{"spool_id":%d+}$') then
        sent = sent + 1
      end
    end
    return
  end
  if status < 200 then
    count_1xx = count_1xx + 1
  elseif status < 400 then
    count_3xx = count_3xx + 1
  elseif status < 500 then
    count_4xx = count_4xx + 1
  else
    count_5xx = count_5xx + 1
  end
  codes[status] = (codes[status] or 0) + 1
  local parts = {}
  for code, n in pairs(codes) do
    parts[#parts + 1] = code .. ":" .. n
  end
  by_status = table.concat(parts, ",")
  if sample_count < 3 then
    sample_count = sample_count + 1
    samples = samples .. status .. " " .. string.gsub(string.sub(body or "", 1, 200), "[\r\n|]", " ") .. " | "
  end
end

function done(summary, latency, requests)
  local totals = { c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, created = 0, sent = 0, pending = 0 }
  local statuses, all_samples = {}, ""
  for _, thread in ipairs(threads) do
    totals.c1 = totals.c1 + thread:get("count_1xx")
    totals.c2 = totals.c2 + thread:get("count_2xx")
    totals.c3 = totals.c3 + thread:get("count_3xx")
    totals.c4 = totals.c4 + thread:get("count_4xx")
    totals.c5 = totals.c5 + thread:get("count_5xx")
    totals.created = totals.created + thread:get("created")
    totals.sent = totals.sent + thread:get("sent")
    for code, n in string.gmatch(thread:get("by_status"), "(%d+):(%d+)") do
      statuses[code] = (statuses[code] or 0) + tonumber(n)
    end
    all_samples = all_samples .. thread:get("samples")
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("load: requests=%d seconds=%.2f rps=%.1f\n", summary.requests, seconds,
    summary.requests / seconds))
  io.write(string.format("load: p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f mean_ms=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
  io.write(string.format("load: 1xx=%d 2xx=%d 3xx=%d 4xx=%d 5xx=%d\n", totals.c1, totals.c2, totals.c3,
    totals.c4, totals.c5))
  io.write(string.format("load: connect=%d read=%d write=%d timeout=%d status=%d\n", e.connect, e.read,
    e.write, e.timeout, e.status))
  io.write(string.format("load: created=%d sent=%d\n", totals.created, totals.sent))
  local parts = {}
  for code, n in pairs(statuses) do
    parts[#parts + 1] = code .. "=" .. n
  end
  table.sort(parts)
  io.write("load: non2xx " .. table.concat(parts, " ") .. "\n")
  if all_samples ~= "" then
    io.write("load: samples " .. all_samples .. "\n")
  end
end
