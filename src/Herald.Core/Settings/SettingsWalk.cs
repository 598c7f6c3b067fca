using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Herald.Settings;

/// <summary>
/// One pass over the configuration under the registered sections, matching keys to the bindable
/// properties of the options types the way <c>ConfigurationBinder</c> does (case-insensitive
/// names, public setters or getter-only objects and collections, dictionaries keyed by any name,
/// lists by index, scalars through their <see cref="TypeConverter"/>).
/// </summary>
internal sealed class SettingsWalk(IConfiguration configuration, IEnumerable<string> sectionPaths)
{
    private readonly HashSet<string> sections = new(sectionPaths, StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> badValues = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Problems { get; } = [];

    public void Object(IConfigurationSection section, Type type)
    {
        var properties = Bindable(type);
        foreach (var child in section.GetChildren())
        {
            // A registered section nested in another (Herald:Sqlite in Herald) is walked on its own.
            if (sections.Contains(child.Path))
                continue;
            var property = properties.FirstOrDefault(p => p.Name.Equals(child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
                Unknown(child, section.Path, KnownKeys(section.Path, properties));
            else
                Value(child, property.PropertyType);
        }
    }

    /// <summary>The section as a configuration of its own, without the values that failed to convert, so its options can be bound and validated.</summary>
    public IConfiguration WithoutBadValues(string path)
    {
        var values = configuration.GetSection(path).AsEnumerable()
            .Where(kv => kv.Value is not null && !badValues.Any(bad => kv.Key.Equals(bad, StringComparison.OrdinalIgnoreCase) || kv.Key.StartsWith(bad + ":", StringComparison.OrdinalIgnoreCase)));
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(path);
    }

    private void Value(IConfigurationSection node, Type type)
    {
        var (shape, element) = ShapeOf(type);
        if (shape == Shape.Scalar)
        {
            foreach (var child in node.GetChildren())
                Unknown(child, node.Path, []);
            if (node.Value is { } value)
                Convert(node, value, type);
            return;
        }

        // The binder ignores a plain value given to a list or an object: HERALD__APIKEYS=hk_… would
        // leave the key unused and a generated one in force.
        if (!string.IsNullOrEmpty(node.Value))
        {
            var expected = shape switch
            {
                Shape.List => $"a list, set as {node.Path}:0, {node.Path}:1, … (environment: {EnvironmentName(node.Path)}__0)",
                Shape.Map => $"named entries, set as {node.Path}:<name>:<setting>",
                _ => $"settings under it, set as {node.Path}:<setting>",
            };
            Bad(node, node.Value, expected);
        }

        if (shape == Shape.Object)
        {
            Object(node, type);
            return;
        }

        foreach (var entry in node.GetChildren())
            Value(entry, element!);
    }

    private void Convert(IConfigurationSection node, string value, Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            if (value.Length == 0)
                return;
            type = underlying;
        }

        if (type == typeof(string) || type == typeof(object))
            return;
        if (type.IsEnum)
        {
            // Stricter than the binder, which takes any number ("7") as an enum value.
            if (!value.Contains(',', StringComparison.Ordinal) && Enum.TryParse(type, value, ignoreCase: true, out var parsed) && Enum.IsDefined(type, parsed))
                return;
            Bad(node, value, Describe(type));
            return;
        }

        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or NotSupportedException or InvalidOperationException)
        {
            Bad(node, value, Describe(type));
        }
    }

    private void Bad(IConfigurationSection node, string value, string expected)
    {
        badValues.Add(node.Path);
        Problems.Add($"{node.Path} = '{value}'{SettingsCheck.SourceOf(configuration, node.Path)}: expected {expected}.");
    }

    private void Unknown(IConfigurationSection node, string parentPath, List<string> known)
    {
        var hint = Closest(node.Key, known) is { } guess ? $"; did you mean {parentPath}:{guess}?"
            : known.Count > 0 ? $"; {parentPath} takes {string.Join(", ", known)}."
            : $"; {parentPath} takes a value, not settings under it.";
        Problems.Add($"{node.Path}: unknown setting{SettingsCheck.SourceOf(configuration, node.Path)}{hint}");
    }

    private List<string> KnownKeys(string path, IEnumerable<PropertyInfo> properties) =>
    [
        .. properties.Select(p => p.Name),
        .. sections.Where(s => s.StartsWith(path + ":", StringComparison.OrdinalIgnoreCase) && !s[(path.Length + 1)..].Contains(':', StringComparison.Ordinal))
            .Select(s => s[(path.Length + 1)..]),
    ];

    /// <summary>What the binder sets: public instance properties with a public setter, or getter-only objects and collections it fills in place.</summary>
    private static List<PropertyInfo> Bindable(Type type) =>
    [
        .. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true }
                && (p.SetMethod is { IsPublic: true } || ShapeOf(p.PropertyType).Shape != Shape.Scalar)),
    ];

    private static (Shape Shape, Type? Element) ShapeOf(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string))
            return (Shape.Scalar, null);
        if (t.IsArray)
            return (Shape.List, t.GetElementType());
        if ((Generic(t, typeof(IDictionary<,>)) ?? Generic(t, typeof(IReadOnlyDictionary<,>))) is { } map)
            return (Shape.Map, map.GetGenericArguments()[1]);
        if (Generic(t, typeof(IEnumerable<>)) is { } list)
            return (Shape.List, list.GetGenericArguments()[0]);
        return t.IsPrimitive || t.IsEnum || TypeDescriptor.GetConverter(t).CanConvertFrom(typeof(string))
            ? (Shape.Scalar, null)
            : (Shape.Object, null);
    }

    private static Type? Generic(Type type, Type definition) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == definition
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition);

    private static string Describe(Type type) => type switch
    {
        _ when type.IsEnum => $"one of {string.Join(", ", Enum.GetNames(type))}",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(TimeSpan) => "a time span as [d.]hh:mm:ss[.fff], e.g. 00:00:30 or 1.00:00:00",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte)
            || type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) => "a whole number",
        _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
        _ => $"a {type.Name}",
    };

    /// <summary>The known key within a third of the typed one's length in edits (at least one), if any: catches typos, not different words.</summary>
    private static string? Closest(string key, List<string> known)
    {
        var best = known
            .Select(k => (Key: k, Distance: EditDistance(key.ToUpperInvariant(), k.ToUpperInvariant())))
            .OrderBy(k => k.Distance)
            .FirstOrDefault();
        return best.Key is not null && best.Distance <= Math.Max(1, key.Length / 3) ? best.Key : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static string EnvironmentName(string path) => path.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant();

    private enum Shape
    {
        Scalar,
        List,
        Map,
        Object,
    }
}
