-- GET with a bearer token (or a page session cookie), rotating over one or more paths.
-- BENCH_DATA names a Lua file returning {token = "…" or "", paths = {"/…", …}}, and for a
-- web page also cookie = "name=value" and accept = "text/html".

local report = dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local data = dofile(os.getenv("BENCH_DATA"))
local paths = data.paths
local counter = 0

function setup(thread)
   report.setup(thread)
end

function init(args)
   if data.token ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. data.token
   end
   if data.cookie then
      wrk.headers["Cookie"] = data.cookie
   end
   wrk.headers["Accept"] = data.accept or "application/json"
   counter = tonumber(wrk.thread:get("tid") or 1) or 1
end

function request()
   counter = counter + 1
   return wrk.format("GET", paths[(counter % #paths) + 1])
end

function response(status, headers, body)
   report.count(status, body)
end

function done(summary, latency, requests)
   report.done(summary, latency)
end
