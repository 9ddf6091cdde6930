-- wrk script: GET a random code from the file named by CODES_FILE, so the cache sees the
-- whole key space rather than one hot key.
local codes = {}

function init(args)
  local file = assert(io.open(os.getenv("CODES_FILE"), "r"))
  for line in file:lines() do
    codes[#codes + 1] = "/" .. line:match("^(%S+)")
  end
  file:close()
  math.randomseed(os.time() + tonumber(tostring(codes):match("0x(%x+)") or "0", 16))
end

function request()
  return wrk.format("GET", codes[math.random(#codes)])
end

local non3xx = 0
function response(status, headers, body)
  if status ~= 302 then
    non3xx = non3xx + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("p99_us %d\n", latency:percentile(99)))
  io.write(string.format("errors %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
