-- post.lua - wrk script: every request is a POST of the judge request body
-- named by $BENCH_BODY (a chat completion with logprobs, as caigen sends).
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.body = f:read("*a")
wrk.headers["Content-Type"] = "application/json"
f:close()
