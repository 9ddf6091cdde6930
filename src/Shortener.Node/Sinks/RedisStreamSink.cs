using System.Globalization;
using Shortener.Core.Changes;
using Shortener.Node.Changes;
using StackExchange.Redis;

namespace Shortener.Node.Sinks;

/// <summary>
/// Appends events to a Redis stream (XADD, one entry per event with fields <c>id</c>, <c>shard</c>
/// and <c>event</c>, the CloudEvent's JSON) through a server-side script that fences and
/// de-duplicates: beside the stream, a hash <c>&lt;stream&gt;.fence</c> keeps per shard the highest
/// fencing token it has seen and the offset it holds through. A shard's batch under a lower token
/// is refused whole; events at or before the held offset are skipped. The script runs atomically
/// in Redis, so the check and the append cannot be separated by another writer. Tokens are
/// compared per shard only: they are log indexes of the shard's own log. The batches of every
/// shard this node delivers go to Redis together (<see cref="CoalescedWrites"/>), each fenced on
/// its own in the one script call.
/// </summary>
public sealed class RedisStreamSink : ISinkWriter
{
    // KEYS[1] stream, KEYS[2] fence hash; ARGV[1] the number of shard batches, then per batch:
    // token, shard, event count, and per event: index, position, id, body. Returns per batch the
    // events added (-1: refused) and the token the hash holds for the shard. Offsets are compared
    // as numbers (log indexes stay below 2^53); what is stored and returned are the strings given
    // or held, never a Lua number printed back.
    private const string Script = """
        local results = {}
        local i = 2
        for _ = 1, tonumber(ARGV[1]) do
          local token, shard, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
          local first, after = i + 3, i + 3 + 4 * count
          i = after
          local held = redis.call('HGET', KEYS[2], 'token:' .. shard) or '0'
          if tonumber(token) < tonumber(held) then
            results[#results + 1] = -1
            results[#results + 1] = held
          else
            if tonumber(token) > tonumber(held) then
              redis.call('HSET', KEYS[2], 'token:' .. shard, token)
            end
            local heldIndex = redis.call('HGET', KEYS[2], 'index:' .. shard) or '0'
            local heldPosition = redis.call('HGET', KEYS[2], 'position:' .. shard) or '-1'
            local lastIndex, lastPosition = tonumber(heldIndex), tonumber(heldPosition)
            local added = 0
            for e = first, after - 1, 4 do
              local index, position = tonumber(ARGV[e]), tonumber(ARGV[e + 1])
              if index > lastIndex or (index == lastIndex and position > lastPosition) then
                redis.call('XADD', KEYS[1], '*', 'id', ARGV[e + 2], 'shard', shard, 'event', ARGV[e + 3])
                lastIndex, lastPosition = index, position
                heldIndex, heldPosition = ARGV[e], ARGV[e + 1]
                added = added + 1
              end
            end
            redis.call('HSET', KEYS[2], 'index:' .. shard, heldIndex, 'position:' .. shard, heldPosition)
            results[#results + 1] = added
            results[#results + 1] = token
          end
        end
        return results
        """;

    private readonly SinkDefinition _sink;
    private readonly ChangeEventFormat _format;
    private readonly ConfigurationOptions _options;
    private readonly Lock _gate = new();
    private Task<ConnectionMultiplexer>? _connecting;
    private readonly RedisKey _stream;
    private readonly RedisKey _fence;
    private readonly CoalescedWrites _writes;
    private readonly SinkMetrics? _metrics;

    public RedisStreamSink(SinkDefinition sink, ChangeEventFormat format, TimeSpan writeInterval, TimeProvider time, SinkMetrics? metrics = null)
    {
        _metrics = metrics;
        _sink = sink;
        _format = format;
        _writes = new CoalescedWrites(SendAsync, writeInterval, time);
        var stream = sink.Stream ?? SinkDefinition.DefaultStream;
        _stream = stream;
        _fence = stream + ".fence";
        _options = Options(new Uri(sink.Url));
    }

    /// <summary>The connection settings a <c>redis://[user:password@]host:port[/db]</c> URL names; short timeouts, so a down Redis fails a write rather than hanging it.</summary>
    public static ConfigurationOptions Options(Uri url)
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = 2_000,
            SyncTimeout = 2_000,
            AsyncTimeout = 2_000,
            ConnectRetry = 1,
            Ssl = url.Scheme == "rediss",
            ClientName = "shortener-sink",
        };
        options.EndPoints.Add(url.Host, url.Port);
        if (int.TryParse(url.AbsolutePath.Trim('/'), out var database))
        {
            options.DefaultDatabase = database;
        }

        if (url.UserInfo is { Length: > 0 } user)
        {
            var parts = Uri.UnescapeDataString(user).Split(':', 2);
            (options.User, options.Password) = parts.Length == 2 ? (parts[0].Length > 0 ? parts[0] : null, parts[1]) : (null, parts[0]);
        }

        return options;
    }

    /// <summary>How many calls this node made to Redis for the sink, and how many shard batches they carried.</summary>
    public (long Calls, long Writes) Counts => _writes.Counts;

    public Task<SinkWrite> WriteAsync(ShardBatch batch, CancellationToken cancellationToken) => _writes.WriteAsync(batch, cancellationToken);

    private async Task<IReadOnlyList<SinkWrite>> SendAsync(IReadOnlyList<ShardBatch> batches)
    {
        var values = new RedisValue[1 + batches.Sum(b => 3 + (4 * b.Changes.Count))];
        values[0] = batches.Count;
        var at = 1;
        foreach (var batch in batches)
        {
            values[at++] = batch.Token.ToString(CultureInfo.InvariantCulture);
            values[at++] = batch.Shard;
            values[at++] = batch.Changes.Count;
            foreach (var change in batch.Changes)
            {
                values[at++] = change.Offset.Index.ToString(CultureInfo.InvariantCulture);
                values[at++] = change.Offset.Position;
                values[at++] = change.Offset.Id;
                values[at++] = _format.Encode(change);
            }
        }

        var database = await DatabaseAsync(CancellationToken.None).ConfigureAwait(false);
        _metrics?.Called(_sink.Name);
        var reply = (RedisResult[])(await database.ScriptEvaluateAsync(Script, [_stream, _fence], values).ConfigureAwait(false))!;
        var results = new SinkWrite[batches.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var added = (long)reply[2 * i];
            var high = ulong.Parse((string)reply[(2 * i) + 1]!, CultureInfo.InvariantCulture);
            results[i] = added < 0 ? new SinkWrite(SinkWriteOutcome.Fenced, 0, high) : new SinkWrite(SinkWriteOutcome.Delivered, (int)added, high);
        }

        return results;
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await database.PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken)
    {
        var connection = await Connection().WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!connection.IsConnected)
        {
            throw new IOException($"Redis at {_sink.Url} is not connected");
        }

        return connection.GetDatabase();
    }

    /// <summary>The connection, made on first use; one that failed to be made is made again on the next write.</summary>
    private Task<ConnectionMultiplexer> Connection()
    {
        lock (_gate)
        {
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = ConnectionMultiplexer.ConnectAsync(_options);
            }

            return _connecting;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task<ConnectionMultiplexer>? connecting;
        lock (_gate)
        {
            connecting = _connecting;
        }

        if (connecting is { IsCompletedSuccessfully: true })
        {
            await connecting.Result.DisposeAsync().ConfigureAwait(false);
        }
    }
}
