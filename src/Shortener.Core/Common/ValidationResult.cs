namespace Shortener.Core;

/// <summary>Either a normalised value or a message a user can act on.</summary>
public readonly record struct ValidationResult<T>(bool IsValid, T? Value, string? Error)
{
    public static ValidationResult<T> Ok(T value) => new(true, value, null);

    public static ValidationResult<T> Fail(string error) => new(false, default, error);
}
