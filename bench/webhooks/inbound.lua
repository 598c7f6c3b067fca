-- wrk script: inbound GitHub-scheme webhook deliveries, every one verified (HMAC-SHA256 of the
-- body) and published. The body and its signature are fixed (BODY, SIGNATURE from the
-- environment); the X-GitHub-Delivery id is new on every request, so none is a duplicate.
wrk.method = "POST"
wrk.body = os.getenv("BODY")
local signature = os.getenv("SIGNATURE")
local prefix = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
local counter = 0

function request()
  counter = counter + 1
  return wrk.format(nil, nil, {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = signature,
    ["X-GitHub-Event"] = "push",
    ["X-GitHub-Delivery"] = prefix .. "-" .. counter,
  })
end
