using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;

namespace Herald.Settings;

/// <summary>
/// Checks the configuration of every registered <see cref="SettingsSection"/> before the host
/// starts and reports every problem at once, one line each, naming the key, the value and where
/// it came from: keys no options property binds (the binder ignores them, so a misspelled
/// setting would silently leave its default in force), values the binder cannot convert (it
/// would stop at the first, inside a stack trace), and each options type's validation errors,
/// checked on a copy without the unconvertible values so that they are reported together.
/// </summary>
public static class SettingsCheck
{
    public static IReadOnlyList<string> Run(IConfiguration configuration, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(services);

        // One entry per path; an engine registered twice (UseSqlite() called again) counts once.
        var sections = services.GetServices<SettingsSection>()
            .GroupBy(s => s.Path, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.Last())
            .ToList();
        var walk = new SettingsWalk(configuration, sections.Select(s => s.Path));
        foreach (var section in sections)
            walk.Object(configuration.GetSection(section.Path), section.OptionsType);

        var problems = new List<string>(walk.Problems);
        foreach (var section in sections)
        {
            if (section.Validate is null)
                continue;
            try
            {
                problems.AddRange(section.Validate(walk.WithoutBadValues(section.Path), services));
            }
            catch (InvalidOperationException e)
            {
                // A value this check let through but the binder refused: still one line, no trace.
                problems.Add(e.InnerException is null ? e.Message : $"{e.Message} {e.InnerException.Message}");
            }
        }

        return problems;
    }

    /// <summary>Throws <see cref="InvalidSettingsException"/> listing every problem <see cref="Run"/> finds.</summary>
    public static void ThrowIfInvalid(IConfiguration configuration, IServiceProvider services)
    {
        var problems = Run(configuration, services);
        if (problems.Count > 0)
            throw new InvalidSettingsException(problems);
    }

    /// <summary>Where a key's value came from, for the message: the file, the environment or the command line.</summary>
    internal static string SourceOf(IConfiguration configuration, string path)
    {
        if (configuration is not IConfigurationRoot root)
            return string.Empty;
        foreach (var provider in root.Providers.Reverse())
        {
            if (!provider.TryGet(path, out _) && !provider.GetChildKeys([], path).Any())
                continue;
            return provider switch
            {
                FileConfigurationProvider file => $" (in {FilePath(file.Source)})",
                EnvironmentVariablesConfigurationProvider => " (from the environment)",
                CommandLineConfigurationProvider => " (on the command line)",
                _ => string.Empty,
            };
        }

        return string.Empty;
    }

    private static string? FilePath(FileConfigurationSource source) =>
        source.FileProvider is PhysicalFileProvider physical && source.Path is { } file ? Path.Combine(physical.Root, file) : source.Path;
}
