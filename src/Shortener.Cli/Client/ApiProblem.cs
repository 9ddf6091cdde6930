namespace Shortener.Cli.Client;

/// <summary>An error the server answered with (RFC 9457 problem details), or a failure to reach it.</summary>
public sealed class ApiProblem(int status, string type, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Type { get; } = type;
}
