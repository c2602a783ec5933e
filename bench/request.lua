-- wrk script of `make bench`: one request shape, configured by bench/run.py through the
-- environment, with one logged-in session per wrk thread.
--
--   BENCH_METHOD        GET or POST
--   BENCH_PATHS         one line per session: its space-separated paths, taken in turn
--   BENCH_BODY          request body; "{n}" becomes a per-thread counter (from BENCH_STARTS),
--                       set from a "version" in each response when there is one
--   BENCH_CONTENT_TYPE  Content-Type of the body
--   BENCH_COOKIES       newline-separated Cookie headers, one per thread (may be empty)
--   BENCH_CSRF          newline-separated CSRF tokens, matching BENCH_COOKIES
--   BENCH_USER_AGENT    the User-Agent the sessions were opened with (Flask-Login binds them)
--   BENCH_STARTS        one line per session: the first value of its counter

local function lines(s)
  local out = {}
  if s == nil or s == "" then return out end
  for line in string.gmatch(s, "[^\n]+") do table.insert(out, line) end
  return out
end

local function words(s)
  local out = {}
  for word in string.gmatch(s, "%S+") do table.insert(out, word) end
  return out
end

local method = os.getenv("BENCH_METHOD") or "GET"
local path_lines = lines(os.getenv("BENCH_PATHS"))
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end
local cookies = lines(os.getenv("BENCH_COOKIES"))
local tokens = lines(os.getenv("BENCH_CSRF"))
local starts = lines(os.getenv("BENCH_STARTS"))

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  local i = ((thread_no or 1) - 1)
  paths = words(path_lines[(i % #path_lines) + 1])
  n = tonumber(starts[(i % #starts) + 1] or "1")
  turn = 0
  wrk.headers["User-Agent"] = os.getenv("BENCH_USER_AGENT") or "recruit-bench"
  wrk.headers["Accept-Language"] = "ru"
  if #cookies > 0 then
    wrk.headers["Cookie"] = cookies[(i % #cookies) + 1]
  end
  if #tokens > 0 then
    wrk.headers["X-CSRFToken"] = tokens[(i % #tokens) + 1]
  end
  local content_type = os.getenv("BENCH_CONTENT_TYPE")
  if content_type and content_type ~= "" then
    wrk.headers["Content-Type"] = content_type
  end
end

function request()
  turn = turn + 1
  local path = paths[((turn - 1) % #paths) + 1]
  local b = nil
  if body then
    b = string.gsub(body, "{n}", tostring(n))
    n = n + 1
  end
  return wrk.format(method, path, nil, b)
end

function response(status, headers, body)
  -- Like autosave.js: the next save is based on the version the server answered with
  -- (a 409 answers with the newer version too).
  if body then
    local version = string.match(body, '"version"%s*:%s*(%d+)')
    if version then n = tonumber(version) end
  end
  if status >= 400 and first_error == nil then
    first_error = tostring(status) .. " " .. string.sub(body or "", 1, 160)
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local err = thread:get("first_error")
    if err then
      io.write("BENCH_FIRST_ERROR " .. string.gsub(err, "%s+", " ") .. "\n")
      break
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
