-- wrk script: POST /api/v1/predict with an API key, rotating realistic texts (zh and en).
--   API_KEY=... wrk -t2 -c64 -d30s --latency -s bench/load_predict.lua http://127.0.0.1:8001/api/v1/predict
-- Prints one JSON line (prefixed "RESULT ") with requests/s, latency percentiles and errors.

local texts = {
  "您好，我想查询一下我的账户余额，昨天转账之后好像少了钱",
  "我的信用卡申请提交一周了还没有审批结果，能帮我看一下吗",
  "转账汇款到外地需要多少手续费？今天能到账吗",
  "密码忘记了，手机银行登录不上去，怎么重置密码",
  "你们的服务太差了，排队两个小时还没办完，我要投诉",
  "请问最近有什么理财产品推荐，收益大概多少",
  "我想咨询一下房贷的利率和还款方式",
  "附近的网点周末营业吗？几点关门",
  "美元兑人民币今天的汇率是多少",
  "谢谢你的耐心解答，问题已经解决了，非常满意",
  "Hi, I'd like to check the balance on my savings account please.",
  "My card was charged twice for the same purchase, I want a refund now.",
  "How do I reset the password for the mobile banking app?",
  "What are the fees for an international wire transfer to Germany?",
  "Thanks a lot, the agent solved my problem quickly. Great service!",
  "I want to close my account, the service has been terrible lately.",
}

local api_key = os.getenv("API_KEY") or ""
local bodies = {}
for i, text in ipairs(texts) do
  local escaped = text:gsub('\\', '\\\\'):gsub('"', '\\"')
  bodies[i] = '{"text":"' .. escaped .. '","session_id":"wrk-' .. i .. '"}'
end

local counter = 0
local non2xx = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = id * 7
  non2xx = 0
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Api-Key " .. api_key
  -- What the TLS proxy in front of gunicorn adds in production (SECURE_SSL_REDIRECT is on).
  wrk.headers["X-Forwarded-Proto"] = "https"
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, nil, bodies[(counter % #bodies) + 1])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if non2xx <= 3 then
      io.stderr:write("non-2xx " .. status .. ": " .. string.sub(body or "", 1, 200) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests": %d, "duration_s": %.2f, "requests_per_s": %.1f, ' ..
    '"latency_ms": {"mean": %.2f, "p50": %.2f, "p90": %.2f, "p99": %.2f, "max": %.2f}, ' ..
    '"errors": {"non_2xx": %d, "status_errors": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, "total": %d}}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    bad, e.status, e.connect, e.read, e.write, e.timeout, bad + socket_errors))
end
