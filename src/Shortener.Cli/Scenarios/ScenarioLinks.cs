using System.Globalization;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// The links a scenario works on, named under a prefix of its own run (so a run against a cluster
/// in use touches nothing else): the set created first, of which a few are registers (updated and
/// read by every worker), a few are hot (redirected from every node), and the rest are redirected
/// now and then; and the aliases of links created during the run.
/// </summary>
public sealed class ScenarioLinks(string run, int count)
{
    public const int Registers = 12;
    public const int HotLinks = 3;

    public int Count => count;

    public string Run => run;

    public string Setup(int i) => $"{run}-{i.ToString(CultureInfo.InvariantCulture)}";

    public string SetupUrl(int i) => $"https://example.com/{run}/{i.ToString(CultureInfo.InvariantCulture)}/initial";

    public IEnumerable<string> All => Enumerable.Range(0, count).Select(Setup);

    public IEnumerable<string> RegisterCodes => Enumerable.Range(0, Math.Min(Registers, count)).Select(Setup);

    public IReadOnlyList<string> HotCodes => Enumerable.Range(Math.Min(Registers, count), HotLinks).Select(Setup).ToList();

    public IEnumerable<string> ClickedCodes => Enumerable.Range(Math.Min(Registers, count), count - Math.Min(Registers, count)).Select(Setup);

    public string Register(Random random) => Setup(random.Next(Math.Min(Registers, count)));

    public string Hot(Random random) => Setup(Math.Min(Registers, count) + random.Next(HotLinks));

    public string Clicked(Random random) => Setup(Math.Min(Registers, count) + random.Next(count - Math.Min(Registers, count)));

    public string NewAlias(int worker, int n) => $"{run}-n{worker.ToString(CultureInfo.InvariantCulture)}-{n.ToString(CultureInfo.InvariantCulture)}";

    public string UrlFor(int worker, int n) => $"https://example.com/{run}/w{worker.ToString(CultureInfo.InvariantCulture)}/{n.ToString(CultureInfo.InvariantCulture)}";

    public string KeyFor(int worker, int n) => $"{run}-{worker.ToString(CultureInfo.InvariantCulture)}-{n.ToString(CultureInfo.InvariantCulture)}";
}
