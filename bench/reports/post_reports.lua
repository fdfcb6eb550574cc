-- wrk script: POST distinct TLS reports (application/tlsrpt+gzip, RFC 8460 §5.4) to the
-- receiver, each body once, and count the answers by status.
--
--   wrk -t T -c C -d SECONDS -s post_reports.lua URL -- MANIFEST
--
-- MANIFEST lists one body file per line. Thread k of T (numbered in setup) takes lines
-- k, k+T, k+2T ... so no two threads post the same report, and pre-renders its requests in
-- init(): request() is one table lookup. A thread that has posted all of its share sends
-- requests with no Content-Type (answered 415 without reading a body, nothing stored) until
-- wrk's duration ends, so a repeat is never counted as throughput. done() prints one line per
-- status: "status CODE COUNT", and "fillers N" for the 415 requests.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads - 1)
end

local requests = {}
local next_request = 1
local filler = nil

function init(args)
  local manifest = assert(io.open(args[1], "r"))
  local total = tonumber(args[2])
  local line = 0
  for path in manifest:lines() do
    if line % total == id then
      local file = assert(io.open(path, "rb"))
      local body = file:read("*a")
      file:close()
      requests[#requests + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/tlsrpt+gzip",
        ["Content-Length"] = tostring(#body),
      }, body)
    end
    line = line + 1
  end
  manifest:close()
  filler = wrk.format("POST", nil, {["Content-Length"] = "0"}, nil)
  statuses = {}
  fillers = 0
end

function request()
  local prepared = requests[next_request]
  if prepared == nil then
    fillers = fillers + 1
    return filler
  end
  requests[next_request] = nil
  next_request = next_request + 1
  return prepared
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  local filled = 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
    filled = filled + thread:get("fillers")
  end
  for status, count in pairs(totals) do
    io.write(string.format("status %d %d\n", status, count))
  end
  io.write(string.format("fillers %d\n", filled))
  io.write(string.format("duration_us %d\n", summary.duration))
  io.write(string.format("latency_p50_us %d\n", latency:percentile(50)))
  io.write(string.format("latency_p99_us %d\n", latency:percentile(99)))
end
