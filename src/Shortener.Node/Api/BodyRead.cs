using Microsoft.AspNetCore.Http;

namespace Shortener.Node.Api;

/// <summary>A request body read in full, or the problem that stopped the read.</summary>
internal sealed record BodyRead(byte[]? Body, IResult? Problem)
{
    public static BodyRead Fail(IResult problem) => new(null, problem);
}
