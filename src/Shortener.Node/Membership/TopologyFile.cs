using System.Text.Json;
using Shortener.Core.Cluster;
using Shortener.Storage;

namespace Shortener.Node.Membership;

/// <summary>Reads and writes a <see cref="ClusterTopology"/> as JSON (what `shortener up` writes and every node keeps a copy of).</summary>
public static class TopologyFile
{
    public const string FileName = "cluster.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static ClusterTopology Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"cannot read the cluster topology {path}: {e.Message}", e);
        }

        return Parse(text, path);
    }

    /// <summary>Reads a topology from JSON that came from <paramref name="source"/> (named in errors).</summary>
    public static ClusterTopology Parse(string json, string source)
    {
        ClusterTopology? topology;
        try
        {
            topology = JsonSerializer.Deserialize<ClusterTopology>(json, Json);
        }
        catch (JsonException e)
        {
            throw new StorageException($"cannot read the cluster topology {source}: {e.Message}", e);
        }

        if (topology is null || topology.Members is null)
        {
            throw new StorageException($"the cluster topology {source} is empty");
        }

        var errors = topology.Validate();
        if (errors.Count > 0)
        {
            throw new StorageException($"the cluster topology {source} is not usable: {string.Join("; ", errors)}");
        }

        return topology;
    }

    /// <summary>Writes atomically and durably: a reader, or a restart after a crash, sees the old file or the new one.</summary>
    public static void Save(string path, ClusterTopology topology)
    {
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(topology, Json)));
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        Storage.Raft.DirectorySync.Fsync(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    public static string Serialize(ClusterTopology topology) => JsonSerializer.Serialize(topology, Json);
}
