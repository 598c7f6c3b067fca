using System.Globalization;

namespace Herald.LoadGen;

/// <summary>Plain <c>--name value</c> / <c>--flag</c> arguments: a load generator needs no more, and children get them back verbatim.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public Options(IReadOnlyList<string> args)
    {
        Raw = args;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{name}'.");
            var hasValue = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            _values[name[2..]] = hasValue ? args[++i] : null;
        }
    }

    public IReadOnlyList<string> Raw { get; }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var value) ? value : null;

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public string Required(string name) => Get(name) ?? throw new ArgumentException($"--{name} is required.");

    public int Int(string name, int fallback) =>
        Get(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        Get(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string name) => Has(name) && Get(name) is not ("false" or "0");

    /// <summary>The arguments with the named ones replaced or added, for a child process.</summary>
    public List<string> With(IReadOnlyDictionary<string, string?> overrides)
    {
        var result = new List<string>();
        foreach (var (name, value) in _values)
        {
            if (overrides.ContainsKey(name))
                continue;
            result.Add("--" + name);
            if (value is not null)
                result.Add(value);
        }

        foreach (var (name, value) in overrides)
        {
            result.Add("--" + name);
            if (value is not null)
                result.Add(value);
        }

        return result;
    }
}
