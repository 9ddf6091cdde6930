using System.CommandLine;

namespace Shortener.Cli.Tests;

public class CliHelpTests
{
    public static TheoryData<string> CommandPaths() => new(AllPaths());

    private static List<string> AllPaths()
    {
        var data = new List<string>();
        void Walk(Command command, string path)
        {
            data.Add(path);
            foreach (var sub in command.Subcommands)
            {
                Walk(sub, (path + " " + sub.Name).Trim());
            }
        }

        Walk(ShortenerCli.CreateRootCommand(), string.Empty);
        return data;
    }

    [Fact]
    public async Task The_version_names_the_commit_it_was_built_from()
    {
        var output = new StringWriter();
        Assert.Equal(0, await ShortenerCli.RunAsync(["--version"], output, new StringWriter()));
        Assert.Matches(@"^\d+\.\d+\.\d+\+[0-9a-f]{7,40}\s*$", output.ToString());
    }

    [Theory]
    [MemberData(nameof(CommandPaths))]
    public async Task Every_command_has_help(string path)
    {
        var output = new StringWriter();
        var args = path.Split(' ', StringSplitOptions.RemoveEmptyEntries).Append("--help").ToArray();
        var exit = await ShortenerCli.RunAsync(args, output, new StringWriter());
        Assert.Equal(0, exit);
        Assert.Contains("Usage:", output.ToString());
        Assert.Contains("Description:", output.ToString());
    }

    [Fact]
    public void The_expected_commands_exist()
    {
        var paths = AllPaths();
        Assert.Contains("serve", paths);
        Assert.Contains("links create", paths);
        Assert.Contains("links get", paths);
        Assert.Contains("links update", paths);
        Assert.Contains("links delete", paths);
        Assert.Contains("links list", paths);
        Assert.Contains("sim codes", paths);
    }

    [Fact]
    public async Task Unknown_commands_and_missing_arguments_fail()
    {
        var error = new StringWriter();
        Assert.NotEqual(0, await ShortenerCli.RunAsync(["frobnicate"], new StringWriter(), error));
        Assert.NotEqual(0, await ShortenerCli.RunAsync(["links", "create"], new StringWriter(), error));
        Assert.Contains("Required argument missing", error.ToString());
    }
}
