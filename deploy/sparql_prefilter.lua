-- The pre-filter of the direct SPARQL path (docs/deploy.md, "The direct path"): HAProxy sends a
-- public `/sparql` query straight to the engine replicas after these cheap checks, instead of
-- through an app process. deploy/cluster.py loads it with `lua-load` and calls it as
--
--   http-request lua.kll_sparql BUILD MAX_BYTES MAX_DEPTH MAX_OPERATORS DATASET PROLOGUE
--
-- DATASET is what to add to a query that names no graph: `-` for nothing (the replica's own
-- default graph holds the current releases: `kll-graph replica load` copies them there), or
-- `&union-default-graph=` when the build's default graph is the union of all graphs; PROLOGUE
-- the percent-encoded PREFIX lines users may leave out.
--
-- The action either answers the request itself (403 update, 413 too long, 400 SERVICE or over a
-- limit: the app's JSON error shape) or rewrites it into the engine's form (GET /query?query=...)
-- and sets txn.kll_direct, or leaves it alone for the apps when it is a case only they handle
-- (no query, a browser asking for the query page, format parameters, a long query, a charset,
-- CSV or TSV results): the apps apply every rule precisely, so a request the pre-filter is unsure
-- of goes there.
--
-- Safety does not rest on this file: the replicas cannot open a connection at all (seccomp,
-- replica/sandbox.py) and are read-only. SERVICE and LOAD are refused here only so that a query
-- meant to reach the network is told so at once, in the same words the apps use.

local FORM = "application/x-www-form-urlencoded"
local DIRECT = "application/sparql-query"
local UPDATE = "application/sparql-update"
-- Result types in which an answer the engine cuts at its time limit still parses: it appends its
-- message to the rows written so far and ends the transfer properly, which in CSV or TSV reads
-- as one more row. The apps hold an answer until it is whole and answer 503 instead, so these
-- go to them; in JSON, XML and the RDF syntaxes the message leaves a document no parser accepts.
local CUT_LOOKS_WHOLE = { "text/csv", "text/tab-separated-values" }
-- The longest rewritten request line sent to a replica; longer queries go through the apps (the
-- buffers of HAProxy hold the request while it is rewritten: tune.bufsize in the template).
local MAX_DIRECT_URI = 16384
local UPDATE_WORDS = {
    INSERT = true, DELETE = true, LOAD = true, CLEAR = true, CREATE = true, DROP = true,
    COPY = true, MOVE = true, ADD = true, WITH = true,
}
local READ_ONLY = "this SPARQL endpoint is read-only. The graph changes only through a new "
    .. "build: edit the sources or the SSSOM mapping files under mappings/ (or accept mappings "
    .. "in the review UI) and run `kll-graph build`"
-- An IRI as the grammar has it; a `<` that does not start one is the less-than operator.
local IRI = '^<[^<>"{}|^`\\%c ]*>'

local function unescape(text)
    text = text:gsub("+", " ")
    return (text:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

local function escape(text)
    return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- The name=value pairs of a query string or form body, decoded, in order.
local function parse_pairs(text, pairs)
    for pair in text:gmatch("[^&]+") do
        local name, value = pair:match("^([^=]*)=?(.*)$")
        pairs[#pairs + 1] = { unescape(name), unescape(value) }
    end
    return pairs
end

-- The query's code as upper-case words (strings, IRIs, comments, variables and the local parts
-- of prefixed names left out), how deep its brackets nest, how many operators it has, and the
-- Protocol parameters naming the graphs of its FROM and FROM NAMED clauses (written as IRIs).
local function scan(query)
    local words, depth, deepest, operators, from = {}, 0, 0, 0, {}
    local i, n = 1, #query
    while i <= n do
        local c = query:sub(i, i)
        if c == '"' or c == "'" then
            local delim = query:sub(i, i + 2) == c .. c .. c and c .. c .. c or c
            local j = i + #delim
            while j <= n do
                if query:sub(j, j) == "\\" then
                    j = j + 2
                elseif query:sub(j, j + #delim - 1) == delim then
                    break
                else
                    j = j + 1
                end
            end
            i = j + #delim
        elseif c == "<" then
            local _, stop = query:find(IRI, i)
            if stop then
                local last, before = (words[#words] or ""):upper(), (words[#words - 1] or ""):upper()
                local iri = escape(query:sub(i + 1, stop - 1))
                if last == "FROM" then
                    from[#from + 1] = "&default-graph-uri=" .. iri
                elseif last == "NAMED" and before == "FROM" then
                    from[#from + 1] = "&named-graph-uri=" .. iri
                end
                i = stop + 1
            else
                operators = operators + 1
                i = i + 1
            end
        elseif c == "#" then
            i = (query:find("\n", i, true) or n) + 1
        elseif c == "?" or c == "$" then
            local _, stop = query:find("^[%w_\128-\255]*", i + 1)
            i = stop + 1
        elseif c == ":" then
            local _, stop = query:find("^[%w_%-%.:%%\\\128-\255]*", i + 1)
            i = stop + 1
        elseif c:find("[%a_\128-\255]") then
            local _, stop = query:find("^[%w_%-\128-\255]*", i)
            words[#words + 1] = query:sub(i, stop)
            i = stop + 1
        else
            if c == "{" or c == "(" or c == "[" then
                depth = depth + 1
                if depth > deepest then deepest = depth end
            elseif c == "}" or c == ")" or c == "]" then
                depth = depth - 1
            elseif c:find("[%.,;|/&%+%-%*=>!%^]") then
                operators = operators + 1
            end
            i = i + 1
        end
    end
    local code = " " .. table.concat(words, " "):upper() .. " "
    for _, word in ipairs({ "UNION", "OPTIONAL", "MINUS" }) do
        local _, count = code:gsub(" " .. word .. " ", "")
        operators = operators + count
    end
    return code, deepest, operators, from
end

-- The first word after the prologue (PREFIX and BASE declarations).
local function first_word(code)
    for word in code:gmatch("%S+") do
        if word ~= "PREFIX" and word ~= "BASE" then return word end
    end
    return nil
end

-- The PREFIX lines of the prologue argument, each with the name it declares (split once).
local prologues = {}
local function prefix_lines(prologue)
    local lines = prologues[prologue]
    if lines == nil then
        lines = {}
        for decl in unescape(prologue):gmatch("[^\n]+") do
            local name = decl:match("^PREFIX%s+([^:%s]*):")
            if name then lines[#lines + 1] = { name .. ":", escape(decl .. "\n") } end
        end
        prologues[prologue] = lines
    end
    return lines
end

-- The PREFIX lines the query may use without declaring: only those whose name appears in it
-- (the engine parses fewer lines; declaring one the query declares itself is harmless).
local function used_prologue(prologue, query)
    if prologue == "-" then return "" end
    local used = {}
    for _, line in ipairs(prefix_lines(prologue)) do
        if query:find(line[1], 1, true) then used[#used + 1] = line[2] end
    end
    return table.concat(used)
end

local function refuse(txn, build, status, code, message)
    local body = string.format(
        '{"error": {"status": %d, "code": "%s", "message": "%s", "parameter": "query"}}',
        status, code, message:gsub("\\", "\\\\"):gsub('"', '\\"'))
    txn:done(txn:reply({
        status = status,
        headers = { ["content-type"] = { "application/json" }, ["x-kll-build"] = { build } },
        body = body,
    }))
end

-- The request's Protocol parameters, or nil when the apps should take it.
local function protocol_params(txn, max_bytes)
    local method = txn.sf:method()
    local pairs = parse_pairs(txn.sf:query() or "", {})
    if method == "GET" then return pairs end
    local content_type = (txn.sf:req_fhdr("content-type") or ""):lower()
    local media_type = content_type:match("^%s*([^;%s]+)") or ""
    local charset = content_type:match("charset%s*=%s*\"?([%w%-]+)")
    if charset and charset ~= "utf-8" and charset ~= "utf8" then return nil end
    local body = txn.f:req_body() or ""
    if #body < (tonumber(txn.sf:req_fhdr("content-length") or "") or math.huge) then
        return nil -- not whole in HAProxy's buffer (chunked, or longer than it holds)
    end
    if media_type == UPDATE then return "update" end
    if media_type == FORM then return parse_pairs(body, pairs) end
    if media_type == DIRECT then
        pairs[#pairs + 1] = { "query", body }
        return pairs
    end
    return nil -- the apps answer 415 with the accepted types
end

local function kll_sparql(txn, build, max_bytes, max_depth, max_operators, dataset, prologue)
    max_bytes, max_depth, max_operators = tonumber(max_bytes), tonumber(max_depth),
        tonumber(max_operators)
    local accept = txn.sf:req_fhdr("accept") or ""
    if txn.sf:method() == "GET" and accept:find("text/html", 1, true) then return end
    local wanted = accept:lower()
    for _, media_type in ipairs(CUT_LOOKS_WHOLE) do
        if wanted:find(media_type, 1, true) then return end
    end
    local pairs = protocol_params(txn, max_bytes)
    if pairs == "update" then
        return refuse(txn, build, 403, "update_forbidden", "SPARQL Update is not accepted: " .. READ_ONLY)
    end
    if pairs == nil then return end
    local query, given_dataset, queries = nil, {}, 0
    for _, pair in ipairs(pairs) do
        local name, value = pair[1], pair[2]
        if name == "update" then
            return refuse(txn, build, 403, "update_forbidden", "SPARQL Update is not accepted: " .. READ_ONLY)
        elseif name == "query" then
            query, queries = value, queries + 1
        elseif name == "default-graph-uri" or name == "named-graph-uri" then
            given_dataset[#given_dataset + 1] = "&" .. name .. "=" .. escape(value)
        else
            return -- format parameters and anything else: the apps
        end
    end
    if queries ~= 1 or query:find("^%s*$") then return end
    if #query > max_bytes then
        return refuse(txn, build, 413, "request_too_large", string.format(
            "the query has %d bytes, more than the limit of %d", #query, max_bytes))
    end
    local code, deepest, operators, from = scan(query)
    if code:find("SERVICE", 1, true) then
        return refuse(txn, build, 400, "query", "SERVICE is not allowed: this endpoint does not "
            .. "query other endpoints; query them yourself and combine the results")
    end
    if code:find(" LOAD ", 1, true) or UPDATE_WORDS[first_word(code) or ""] then
        return refuse(txn, build, 403, "update_forbidden", "SPARQL Update is not accepted: " .. READ_ONLY)
    end
    if deepest > max_depth then
        return refuse(txn, build, 400, "query", string.format(
            "the query nests brackets %d deep, more than the limit of %d", deepest, max_depth))
    end
    if operators > max_operators then
        return refuse(txn, build, 400, "query", string.format(
            "the query has %d operators and joins, more than the limit of %d",
            operators, max_operators))
    end
    -- The dataset: the request's own, else the query's FROM clauses (sent as parameters, as the
    -- engine reads them either way), else the apps'.
    local _, clauses = code:gsub(" FROM ", "")
    local uri = "/query?query=" .. used_prologue(prologue, query) .. escape(query)
    if #given_dataset > 0 then
        uri = uri .. table.concat(given_dataset)
    elseif clauses > 0 then
        if clauses ~= #from then return end -- a graph named otherwise (prefixed name): the apps
        uri = uri .. table.concat(from)
    elseif dataset ~= "-" then
        uri = uri .. dataset
    end
    if #uri > MAX_DIRECT_URI then return end
    -- a graph result for a client that names no type: Turtle, as the apps send it (the engine
    -- would choose N-Quads)
    local form = first_word(code)
    if (form == "CONSTRUCT" or form == "DESCRIBE") and (accept == "" or accept == "*/*") then
        txn.http:req_set_header("Accept", "text/turtle")
    end
    txn.http:req_set_method("GET")
    txn.http:req_set_uri(uri)
    txn:set_var("txn.kll_direct", 1)
end

core.register_action("kll_sparql", { "http-req" }, kll_sparql, 6)
