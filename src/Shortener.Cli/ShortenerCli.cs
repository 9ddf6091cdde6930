using System.CommandLine;
using System.Reflection;
using Shortener.Cli.Commands;

namespace Shortener.Cli;

/// <summary>The `shortener` command line: run a node, talk to one, run simulations.</summary>
public static class ShortenerCli
{
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("Shortener: a URL shortener that stays correct when machines disagree.");
        root.Subcommands.Add(UpCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(LinksCommand.Create());
        root.Subcommands.Add(ClusterCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(SinksCommand.Create());
        root.Subcommands.Add(TlsCommand.Create());
        root.Subcommands.Add(FaultCommand.Create());
        root.Subcommands.Add(ScenarioCommand.Create());
        root.Subcommands.Add(SimCommand.Create());

        // This program's version, not the host's: the default prints the entry assembly's, which
        // is a test runner's when the command runs in a test.
        var version = root.Options.OfType<VersionOption>().Single();
        version.Action = new PrintVersion();
        return root;
    }

    /// <summary>The version and the commit this program was built from ("1.0.0+sha").</summary>
    public static string Version =>
        typeof(ShortenerCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        var configuration = new InvocationConfiguration();
        if (output is not null)
        {
            configuration.Output = output;
        }

        if (error is not null)
        {
            configuration.Error = error;
        }

        return CreateRootCommand().Parse(args).InvokeAsync(configuration, cancellationToken);
    }

    private sealed class PrintVersion : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return 0;
        }
    }
}
