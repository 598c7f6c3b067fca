-- wrk script: POST one small JSON publication per request to one channel.
-- The API key comes from the HERALD_API_KEY environment variable.
wrk.method = "POST"
wrk.body = '{"data":{"text":"hello from wrk","n":42}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("HERALD_API_KEY")
