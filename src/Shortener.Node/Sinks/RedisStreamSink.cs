using System.Globalization;
using Shortener.Core.Changes;
using Shortener.Node.Changes;
using StackExchange.Redis;

namespace Shortener.Node.Sinks;

/// <summary>
/// Appends events to a Redis stream (XADD, one entry per event with fields <c>id</c>, <c>shard</c>
/// and <c>event</c>, the CloudEvent's JSON) through a server-side script that fences and
/// de-duplicates: beside the stream, a hash <c>&lt;stream&gt;.fence</c> keeps per shard the highest
/// fencing token it has seen and the offset it holds through. A write under a lower token is
/// refused whole; events at or before the held offset are skipped. The script runs atomically in
/// Redis, so the check and the append cannot be separated by another writer. Tokens are compared
/// per shard only: they are log indexes of the shard's own log.
/// </summary>
public sealed class RedisStreamSink : ISinkWriter
{
    // KEYS[1] stream, KEYS[2] fence hash; ARGV[1] token, ARGV[2] shard, then per event:
    // index, position, id, body. Offsets are compared as numbers (log indexes stay below 2^53);
    // the held offset is stored as the strings given, never as a Lua number printed back.
    private const string Script = """
        local token = tonumber(ARGV[1])
        local shard = ARGV[2]
        local high = tonumber(redis.call('HGET', KEYS[2], 'token:' .. shard) or '0')
        if token < high then
          return {-1, tostring(high)}
        end
        if token > high then
          redis.call('HSET', KEYS[2], 'token:' .. shard, ARGV[1])
        end
        local heldIndex = redis.call('HGET', KEYS[2], 'index:' .. shard) or '0'
        local heldPosition = redis.call('HGET', KEYS[2], 'position:' .. shard) or '-1'
        local lastIndex, lastPosition = tonumber(heldIndex), tonumber(heldPosition)
        local added = 0
        for i = 3, #ARGV, 4 do
          local index, position = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
          if index > lastIndex or (index == lastIndex and position > lastPosition) then
            redis.call('XADD', KEYS[1], '*', 'id', ARGV[i + 2], 'shard', shard, 'event', ARGV[i + 3])
            lastIndex, lastPosition = index, position
            heldIndex, heldPosition = ARGV[i], ARGV[i + 1]
            added = added + 1
          end
        end
        redis.call('HSET', KEYS[2], 'index:' .. shard, heldIndex, 'position:' .. shard, heldPosition)
        return {added, ARGV[1]}
        """;

    private readonly SinkDefinition _sink;
    private readonly ChangeEventFormat _format;
    private readonly ConfigurationOptions _options;
    private readonly Lock _gate = new();
    private Task<ConnectionMultiplexer>? _connecting;
    private readonly RedisKey _stream;
    private readonly RedisKey _fence;

    public RedisStreamSink(SinkDefinition sink, ChangeEventFormat format)
    {
        _sink = sink;
        _format = format;
        _stream = sink.Stream ?? SinkDefinition.DefaultStream;
        _fence = (sink.Stream ?? SinkDefinition.DefaultStream) + ".fence";
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

    public async Task<SinkWrite> WriteAsync(int shard, ulong token, IReadOnlyList<LinkChange> changes, CancellationToken cancellationToken)
    {
        var values = new RedisValue[2 + (4 * changes.Count)];
        values[0] = token.ToString(CultureInfo.InvariantCulture);
        values[1] = shard.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            values[2 + (4 * i)] = change.Offset.Index.ToString(CultureInfo.InvariantCulture);
            values[3 + (4 * i)] = change.Offset.Position.ToString(CultureInfo.InvariantCulture);
            values[4 + (4 * i)] = change.Offset.Id;
            values[5 + (4 * i)] = _format.Encode(change);
        }

        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var reply = (RedisResult[])(await database.ScriptEvaluateAsync(Script, [_stream, _fence], values).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        var added = (long)reply[0];
        var high = ulong.Parse((string)reply[1]!, CultureInfo.InvariantCulture);
        return added < 0
            ? new SinkWrite(SinkWriteOutcome.Fenced, 0, high)
            : new SinkWrite(SinkWriteOutcome.Delivered, (int)added, high);
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
