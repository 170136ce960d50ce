-- Shared by the benchmark's wrk scripts: per-thread counters and a JSON summary from done().
--
-- wrk runs one Lua state per thread plus one main state: each thread counts its responses in
-- globals, and done() (main state) reads them through the thread objects kept by setup().

local report = {}

report.threads = {}

function report.setup(thread)
   table.insert(report.threads, thread)
   thread:set("tid", #report.threads)
end

-- Counters kept in each thread's state.
report.ok = 0
report.non2xx = 0
report.first_bad = ""

function report.count(status, body)
   if status >= 200 and status < 300 then
      report.ok = report.ok + 1
   else
      report.non2xx = report.non2xx + 1
      if report.first_bad == "" then
         local snippet = string.sub(body or "", 1, 200)
         snippet = string.gsub(snippet, '[%c"\\]', " ")
         report.first_bad = tostring(status) .. " " .. snippet
      end
   end
   ok = report.ok
   non2xx = report.non2xx
   first_bad = report.first_bad
end

local function sum(name)
   local total = 0
   for _, thread in ipairs(report.threads) do
      total = total + (tonumber(thread:get(name)) or 0)
   end
   return total
end

function report.done(summary, latency, extra_names)
   local e = summary.errors
   local bad = ""
   for _, thread in ipairs(report.threads) do
      local b = thread:get("first_bad")
      if b and b ~= "" then bad = b break end
   end
   local parts = {
      string.format('"requests":%d', summary.requests),
      string.format('"duration_us":%d', summary.duration),
      string.format('"bytes":%d', summary.bytes),
      string.format('"connect_errors":%d', e.connect),
      string.format('"read_errors":%d', e.read),
      string.format('"write_errors":%d', e.write),
      string.format('"timeouts":%d', e.timeout),
      string.format('"status_errors":%d', e.status),
      string.format('"ok":%d', sum("ok")),
      string.format('"non2xx":%d', sum("non2xx")),
      string.format('"first_bad":"%s"', bad),
      string.format('"p50_us":%d', latency:percentile(50)),
      string.format('"p90_us":%d', latency:percentile(90)),
      string.format('"p99_us":%d', latency:percentile(99)),
      string.format('"max_us":%d', latency.max),
      string.format('"mean_us":%.1f', latency.mean),
   }
   for _, name in ipairs(extra_names or {}) do
      table.insert(parts, string.format('"%s":%d', name, sum(name)))
   end
   io.write("BENCH_RESULT {" .. table.concat(parts, ",") .. "}\n")
end

return report
