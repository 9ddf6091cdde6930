using Microsoft.Extensions.Options;

namespace Shortener.Node.Clicks;

/// <summary>Refuses click options out of range at start, naming the option.</summary>
public sealed class ClickOptionsValidator : IValidateOptions<ClickOptions>
{
    public ValidateOptionsResult Validate(string? name, ClickOptions options) =>
        options.IsValid(out var error) ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(error!);
}
