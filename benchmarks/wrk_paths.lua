-- wrk script of benchmarks/bench_cluster_direct.py: every request a new path from templates.
--   wrk -s benchmarks/wrk_paths.lua URL -- TEMPLATES_FILE
-- Each line of TEMPLATES_FILE is a request path whose %01, %02 and %03 stand for a counter and
-- two values derived from it (as benchmarks' SPARQL mix has them), so no two requests of a run
-- ask the same query and no cache answers. done() prints one line for the benchmark to read.
local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    threads[#threads + 1] = thread
end

function init(args)
    templates = {}
    for line in io.lines(args[1]) do templates[#templates + 1] = line end
    counter = id * 10000000
    wrk.headers["Accept"] = "application/sparql-results+json, application/json;q=0.9"
end

function request()
    counter = counter + 1
    local path = templates[counter % #templates + 1]
    path = path:gsub("%%01", tostring(counter)):gsub("%%02", tostring(counter % 200))
        :gsub("%%03", tostring(counter % 40))
    return wrk.format("GET", path)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "WRK requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
