-- wrk script for bench/service_load.py: POST /v1/verify with the bodies of a file, one per line,
-- each thread taking every Nth so that no two requests of a run carry the same code; counts the
-- accepted answers and prints one JSON line of figures at the end.
-- usage: wrk -s bench/wrk_verify.lua URL -- BODIES_FILE THREADS [API_KEY]

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  step = tonumber(args[2])
  idx = id + 1
  accepted = 0
  answered = 0
  wrapped = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[3] and args[3] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[3]
  end
end

function request()
  local body = bodies[idx]
  idx = idx + step
  if idx > #bodies then
    idx = id + 1
    wrapped = wrapped + 1
  end
  return wrk.format(nil, "/v1/verify", nil, body)
end

function response(status, headers, body)
  answered = answered + 1
  if status == 200 and body:find('"ok": *true') then
    accepted = accepted + 1
  end
end

function done(summary, latency, requests)
  local acc, ans, wr = 0, 0, 0
  for _, t in ipairs(threads) do
    acc = acc + t:get("accepted")
    ans = ans + t:get("answered")
    wr = wr + t:get("wrapped")
  end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d, "non2xx": %d, "accepted": %d, "answered": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status, acc, ans, wr))
end
