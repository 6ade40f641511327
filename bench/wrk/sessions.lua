-- A wrk script template: bench/run.py fills in the @...@ values and writes the result under
-- build/. Each request is sent as one of the prepared clients: that session's own cookie,
-- and for a POST its own CSRF token in the form body. The data file has one line per
-- session: "<cookie header value><TAB><urlencoded body>".
-- A status other than @STATUS@ is counted as an error; done() prints one JSON line.

local method, path, data_file = "@METHOD@", "@PATH@", "@DATA@"
local expected = @STATUS@
local threads, made = {}, 0

function setup(thread)
  thread:set("id", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  requests_ = {}
  for line in io.lines(data_file) do
    local cookie, body = line:match("^([^\t]*)\t(.*)$")
    if cookie then
      local headers = {["Cookie"] = cookie}
      if method == "POST" then
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      else
        body = nil
      end
      table.insert(requests_, wrk.format(method, path, headers, body))
    end
  end
  -- Threads start at different sessions, then take them in turn.
  next_ = (id * math.floor(#requests_ / 2)) % #requests_
  unexpected, statuses = 0, {}
end

function request()
  next_ = next_ % #requests_ + 1
  return requests_[next_]
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad, seen = 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
    for status, count in pairs(thread:get("statuses")) do
      seen[#seen + 1] = string.format('"%d": %d', status, count)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p95_us": %d, "p99_us": %d, "max_us": %d, "unexpected_status": %d, ' ..
    '"statuses": {%s}, "socket_errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, bad,
    table.concat(seen, ", "), e.connect, e.read, e.write, e.timeout))
end
