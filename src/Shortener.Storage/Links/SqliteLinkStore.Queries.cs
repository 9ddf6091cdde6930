using System.Text;
using Microsoft.Data.Sqlite;
using Shortener.Core.Changes;
using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>Filtered and ordered reads of a shard's live links and its tags (the Shlink API's lists), from committed rows.</summary>
public sealed partial class SqliteLinkStore
{
    /// <summary>The first <paramref name="take"/> live links of <paramref name="shard"/> that match <paramref name="query"/>, in its order, and how many match.</summary>
    public LinkQueryPage Query(int shard, LinkQuery query, int take)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        using var lease = OpenReader();
        using var command = lease.Connection.CreateCommand();
        var where = Where(command, shard, query);
        var columns = string.Join(", ", SqliteLinkTable.SelectColumns.Split(", ").Select(c => "l." + c));
        var direction = query.Descending ? "DESC" : "ASC";
        var order = query.Order switch
        {
            LinkOrder.DateCreated => $"l.created_at {direction}, l.code {direction}",
            LinkOrder.ShortCode => $"l.code {direction}",
            LinkOrder.LongUrl => $"l.url {direction}, l.code {direction}",
            LinkOrder.Title => $"l.title {direction}, l.code {direction}",
            _ => throw new ArgumentOutOfRangeException(nameof(query), query.Order, null),
        };

        command.CommandText = $"SELECT count(*) FROM links l WHERE {where}";
        var total = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

        command.CommandText = $"SELECT {columns} FROM links l WHERE {where} ORDER BY {order} LIMIT $take";
        command.Parameters.AddWithValue("$take", take);
        var links = new List<Link>(Math.Min(take, total));
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                links.Add(SqliteLinkTable.ReadLink(reader));
            }
        }

        return new LinkQueryPage(links, total);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> of <paramref name="shard"/>'s kept changes after
    /// <paramref name="after"/> (null: from the oldest kept), in offset order, and the offset the
    /// kept changes were purged through (a position before it has lost events).
    /// </summary>
    /// <summary>
    /// How many of <paramref name="shard"/>'s kept changes lie after <paramref name="after"/> (counting
    /// stops at <paramref name="cap"/>), and the command time of the oldest of them: a consumer's lag.
    /// </summary>
    public (int Count, long? OldestAtMs) Backlog(int shard, ChangeOffset? after, int cap)
    {
        using var lease = OpenReader();
        using var command = lease.Connection.CreateCommand();
        command.Parameters.AddWithValue("$shard", shard);
        command.Parameters.AddWithValue("$cap", cap);
        command.Parameters.AddWithValue("$idx", (long)(after?.Index ?? 0));
        command.Parameters.AddWithValue("$position", after?.Position ?? -1);
        command.CommandText = "SELECT COUNT(*), MIN(at_ms) FROM (SELECT at_ms FROM changes WHERE shard = $shard AND (idx > $idx OR (idx = $idx AND position > $position)) ORDER BY idx, position LIMIT $cap)";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetInt64(1));
    }

    /// <summary>The offset of <paramref name="shard"/>'s newest kept change made before <paramref name="atMs"/> (command time), or null.</summary>
    public ChangeOffset? LastChangeBefore(int shard, long atMs)
    {
        using var lease = OpenReader();
        using var command = lease.Connection.CreateCommand();
        command.Parameters.AddWithValue("$shard", shard);
        command.Parameters.AddWithValue("$at", atMs);
        command.CommandText = "SELECT idx, position FROM changes WHERE shard = $shard AND at_ms < $at ORDER BY idx DESC, position DESC LIMIT 1";
        using var reader = command.ExecuteReader();
        return reader.Read() ? new ChangeOffset(shard, (ulong)reader.GetInt64(0), reader.GetInt32(1)) : null;
    }

    /// <summary>The document <paramref name="name"/> of <paramref name="shard"/> as last committed (a lease, or a cluster document in shard 0), or null.</summary>
    public (long Version, string Document)? Document(int shard, string name) =>
        GetMeta(shard, name) is { } text ? SqliteLinkTable.ParseDocument(text) : null;

    /// <summary>Up to <paramref name="limit"/> documents of <paramref name="shard"/> whose names start with <paramref name="prefix"/>, as last committed, by name.</summary>
    public IReadOnlyList<(string Name, string Document)> Documents(int shard, string prefix, int limit)
    {
        using var lease = OpenReader();
        using var command = lease.Connection.CreateCommand();
        command.Parameters.AddWithValue("$shard", shard);
        command.Parameters.AddWithValue("$from", prefix);
        command.Parameters.AddWithValue("$to", prefix + char.MaxValue);
        command.Parameters.AddWithValue("$limit", limit);
        command.CommandText = "SELECT key, value FROM meta WHERE shard = $shard AND key >= $from AND key < $to ORDER BY key LIMIT $limit";
        using var reader = command.ExecuteReader();
        var documents = new List<(string, string)>();
        while (reader.Read())
        {
            documents.Add((reader.GetString(0), SqliteLinkTable.ParseDocument(reader.GetString(1)).Document));
        }

        return documents;
    }

    public (IReadOnlyList<LinkChange> Changes, ChangeOffset? PurgedThrough) Changes(int shard, ChangeOffset? after, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        using var lease = OpenReader();
        using var command = lease.Connection.CreateCommand();
        command.Parameters.AddWithValue("$shard", shard);
        command.Parameters.AddWithValue("$key", SqliteLinkTable.ChangesPurgedKey);
        command.CommandText = "SELECT value FROM meta WHERE shard = $shard AND key = $key";
        var purged = SqliteLinkTable.PurgedThrough(command.ExecuteScalar() as string, shard);

        command.CommandText = $"SELECT {SqliteLinkTable.ChangeColumns} FROM changes WHERE shard = $shard"
            + (after is null ? string.Empty : " AND (idx > $idx OR (idx = $idx AND position > $position))")
            + " ORDER BY idx, position LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        if (after is { } from)
        {
            command.Parameters.AddWithValue("$idx", (long)from.Index);
            command.Parameters.AddWithValue("$position", from.Position);
        }

        var changes = new List<LinkChange>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                changes.Add(SqliteLinkTable.ReadChange(reader, shard));
            }
        }

        return (changes, purged);
    }

    /// <summary>Every tag of <paramref name="shard"/>'s live links (of <paramref name="owner"/> only, when given) and how many links carry it.</summary>
    public IReadOnlyList<(string Tag, int Links)> TagCounts(int shard, string? owner)
    {
        using var lease = OpenReader();
        using var command = lease.Connection.CreateCommand();
        command.CommandText = owner is null
            ? "SELECT tag, count(*) FROM link_tags WHERE shard = $shard GROUP BY tag"
            : "SELECT t.tag, count(*) FROM link_tags t JOIN links l ON l.shard = t.shard AND l.code = t.code WHERE t.shard = $shard AND l.owner = $owner GROUP BY t.tag";
        command.Parameters.AddWithValue("$shard", shard);
        if (owner is not null)
        {
            command.Parameters.AddWithValue("$owner", owner);
        }

        var counts = new List<(string, int)>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            counts.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return counts;
    }

    private static string Where(SqliteCommand command, int shard, LinkQuery query)
    {
        var where = new StringBuilder("l.shard = $shard AND l.deleted = 0");
        command.Parameters.AddWithValue("$shard", shard);
        if (query.Owner is not null)
        {
            where.Append(" AND l.owner = $owner");
            command.Parameters.AddWithValue("$owner", query.Owner);
        }

        if (query.Url is not null)
        {
            where.Append(" AND l.url = $url");
            command.Parameters.AddWithValue("$url", query.Url);
        }

        if (query.CrawlableOnly)
        {
            where.Append(" AND l.crawlable = 1");
        }

        if (query.CreatedFrom is { } from)
        {
            where.Append(" AND l.created_at >= $from");
            command.Parameters.AddWithValue("$from", from);
        }

        if (query.CreatedTo is { } to)
        {
            where.Append(" AND l.created_at <= $to");
            command.Parameters.AddWithValue("$to", to);
        }

        if (query.ExcludeMaxVisitsReached)
        {
            where.Append(" AND (l.max_visits IS NULL OR l.visits < l.max_visits)");
        }

        if (query.ExcludeExpiredAt is { } now)
        {
            where.Append(" AND (l.expires_at IS NULL OR l.expires_at > $now)");
            command.Parameters.AddWithValue("$now", now);
        }

        if (!string.IsNullOrEmpty(query.SearchTerm))
        {
            where.Append(" AND (l.code LIKE $term ESCAPE '\\' OR l.url LIKE $term ESCAPE '\\' OR l.title LIKE $term ESCAPE '\\'"
                + " OR EXISTS (SELECT 1 FROM link_tags s WHERE s.shard = l.shard AND s.code = l.code AND s.tag LIKE $term ESCAPE '\\'))");
            command.Parameters.AddWithValue("$term", "%" + query.SearchTerm.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%");
        }

        TagFilter(where, command, "tags", query.Tags, query.AllTags, exclude: false);
        TagFilter(where, command, "excluded", query.ExcludeTags, query.AllExcludeTags, exclude: true);
        return where.ToString();
    }

    /// <summary>Links with any (or all) of <paramref name="tags"/>; with <paramref name="exclude"/>, links without them.</summary>
    private static void TagFilter(StringBuilder where, SqliteCommand command, string name, IReadOnlyList<string>? tags, bool all, bool exclude)
    {
        if (tags is not { Count: > 0 })
        {
            return;
        }

        var distinct = tags.Distinct(StringComparer.Ordinal).ToList();
        var names = string.Join(", ", distinct.Select((_, i) => $"${name}{i}"));
        for (var i = 0; i < distinct.Count; i++)
        {
            command.Parameters.AddWithValue($"${name}{i}", distinct[i]);
        }

        var matching = $"(SELECT count(*) FROM link_tags t WHERE t.shard = l.shard AND t.code = l.code AND t.tag IN ({names}))";
        var has = all ? $"{matching} = {distinct.Count}" : $"{matching} > 0";
        where.Append(exclude ? $" AND NOT ({has})" : $" AND {has}");
    }
}
