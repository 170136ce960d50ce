-- PUT /api/v1/refuges/{id}/availability with If-Match, as each refuge's own staff.
--
-- BENCH_DATA names a Lua file returning
--   {threads = 2, refuges = {{id = 12, token = "…", etag = "…" or nil,
--                             spaces = {{"single", 6}, {"family", 3}}}, …}}
--
-- An update names the version it read (If-Match), so two updates of one refuge racing each
-- other would rightly end in 412 for one of them. Here every refuge has at most ONE request in
-- flight: each wrk thread owns its own refuges (round-robin by position), a request takes a
-- refuge from the thread's ready queue, and the response (matched by the X-Request-ID the app
-- echoes) stores the new ETag and puts the refuge back. With at least as many refuges per
-- thread as connections per thread, no update can conflict, so every 412 is a real error.
-- If a refuge's ETag is unknown (first use, or after an error), the script GETs it first.

local report = dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local data = dofile(os.getenv("BENCH_DATA"))

local ready = {}      -- refuges of this thread with no request in flight (FIFO)
local inflight = {}   -- refuge id -> {method, sent}
local by_id = {}
local seq = 0

puts, gets, conflicts, reclaimed = 0, 0, 0, 0

function setup(thread)
   report.setup(thread)
end

function init(args)
   local tid = tonumber(wrk.thread:get("tid") or 1) or 1
   local nthreads = tonumber(data.threads) or 1
   for i, refuge in ipairs(data.refuges) do
      if (i - 1) % nthreads == tid - 1 then
         by_id[refuge.id] = refuge
         refuge.version = 0
         table.insert(ready, refuge.id)
      end
   end
end

local function body_for(refuge)
   refuge.version = refuge.version + 1
   local parts = {}
   for i, space in ipairs(refuge.spaces) do
      local total = space[2]
      local vacant = (refuge.version + i) % (total + 1)
      parts[i] = string.format('{"space_type":"%s","total":%d,"vacant":%d}', space[1], total,
                               vacant)
   end
   return '{"spaces":[' .. table.concat(parts, ",") .. ']}'
end

local function take()
   local id = table.remove(ready, 1)
   if id == nil then
      -- Only when responses were lost to socket errors: take back the oldest in-flight refuge.
      local oldest, when = nil, nil
      for rid, f in pairs(inflight) do
         if when == nil or f.sent < when then oldest, when = rid, f.sent end
      end
      id = oldest
      reclaimed = reclaimed + 1
   end
   return id
end

function request()
   local id = take()
   local refuge = by_id[id]
   seq = seq + 1
   local headers = {
      ["Authorization"] = "Bearer " .. refuge.token,
      ["Accept"] = "application/json",
      ["X-Request-ID"] = "bench-" .. id .. "-" .. seq,
   }
   local path = "/api/v1/refuges/" .. id .. "/availability"
   if refuge.etag == nil then
      inflight[id] = {method = "GET", sent = seq}
      return wrk.format("GET", path, headers)
   end
   headers["If-Match"] = refuge.etag
   headers["Content-Type"] = "application/json"
   inflight[id] = {method = "PUT", sent = seq}
   return wrk.format("PUT", path, headers, body_for(refuge))
end

local function header(headers, name)
   local lower = string.lower(name)
   for key, value in pairs(headers) do
      if string.lower(key) == lower then return value end
   end
   return nil
end

function response(status, headers, body)
   report.count(status, body)
   local rid = header(headers, "X-Request-ID") or ""
   local id = tonumber(string.match(rid, "^bench%-(%d+)%-"))
   local refuge = id and by_id[id]
   if refuge == nil then return end
   local sent = inflight[id]
   inflight[id] = nil
   if status >= 200 and status < 300 then
      refuge.etag = header(headers, "ETag")
      if sent and sent.method == "GET" then gets = gets + 1 else puts = puts + 1 end
   else
      if status == 412 then conflicts = conflicts + 1 end
      refuge.etag = nil
   end
   table.insert(ready, id)
end

function done(summary, latency, requests)
   report.done(summary, latency, {"puts", "gets", "conflicts", "reclaimed"})
end
