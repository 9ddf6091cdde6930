using System.Net;
using System.Net.Sockets;

namespace Shortener.Cli.Cluster;

/// <summary>Free TCP ports on 127.0.0.1 for nodes a command starts itself (a scenario's cluster, a replacement node).</summary>
public static class FreePorts
{
    /// <summary>The first of <paramref name="count"/> consecutive free ports on 127.0.0.1, from a random start, not overlapping the range that starts at <paramref name="avoid"/>.</summary>
    public static int Range(int count, int avoid)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var first = Random.Shared.Next(20_000, 60_000);
            if (Math.Abs(first - avoid) >= count && Enumerable.Range(first, count).All(IsFree))
            {
                return first;
            }
        }

        throw new InvalidOperationException("no free ports found on 127.0.0.1");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
