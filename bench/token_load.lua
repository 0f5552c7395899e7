-- wrk script for the token endpoint benchmarks (bench/token_endpoint.py).
-- One connection per thread, so each thread can chain its own refresh tokens
-- (both servers rotate them: a used refresh token is refused).
--   MODE=refresh|client|introspect  TOKEN_PATH  AUTH (Basic header value)
--   BODY (static body for client/introspect)  TOKENS_FILE (one refresh token a line)
local mode = os.getenv("MODE")
local path = os.getenv("TOKEN_PATH")
local auth = os.getenv("AUTH")
local static_body = os.getenv("BODY")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

function init(args)
  token = nil
  failures = 0
  if mode == "refresh" then
    local i = 0
    for line in io.lines(os.getenv("TOKENS_FILE")) do
      i = i + 1
      if i == index then token = line end
    end
  end
  wrk.method = "POST"
  wrk.path = path
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = auth
end

function request()
  if mode == "refresh" then
    return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
  end
  return wrk.format(nil, nil, nil, static_body)
end

function response(status, headers, body)
  if status ~= 200 then
    if failures == 0 and os.getenv("DEBUG") then io.stderr:write(status .. " " .. body .. "\n") end
    failures = failures + 1
    return
  end
  if mode == "refresh" then
    local next_token = string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
    if next_token then token = next_token end
  elseif mode == "introspect" then
    if not string.find(body, '"active"%s*:%s*true') then failures = failures + 1 end
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + (thread:get("failures") or 0) end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_us": %d, "p99_us": %d, "failed": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    failed, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
