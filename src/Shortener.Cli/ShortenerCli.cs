using System.CommandLine;
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
        root.Subcommands.Add(FaultCommand.Create());
        root.Subcommands.Add(ScenarioCommand.Create());
        root.Subcommands.Add(SimCommand.Create());
        return root;
    }

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
}
