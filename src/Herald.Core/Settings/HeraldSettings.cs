using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Settings;

/// <summary>
/// A configuration section Herald binds into an options type. Registering the section is what
/// makes its keys known to <see cref="SettingsCheck"/>: the known keys are the bindable properties
/// of <see cref="OptionsType"/>, found by reflection, so a new setting needs no second list.
/// </summary>
public sealed class SettingsSection
{
    internal SettingsSection(string path, Type optionsType, Func<IConfiguration, IServiceProvider, IEnumerable<string>>? validate)
    {
        Path = path;
        OptionsType = optionsType;
        Validate = validate;
    }

    /// <summary>The section's path, e.g. <c>Herald</c> or <c>Herald:Sqlite</c>.</summary>
    public string Path { get; }

    /// <summary>The type the section binds to.</summary>
    public Type OptionsType { get; }

    /// <summary>Binds a copy of the options from the given section and runs the registered validators; null for a section that is only known (an engine this host ships but did not choose).</summary>
    internal Func<IConfiguration, IServiceProvider, IEnumerable<string>>? Validate { get; }
}

public static class HeraldSettingsExtensions
{
    /// <summary>
    /// Binds <typeparamref name="T"/> from <paramref name="section"/>, validates it on start, and
    /// registers the section with the start-up check, which then reports unknown keys and values
    /// of the wrong type under it together with the validators' errors. Every Herald options
    /// section (the core's, each engine's) is added this way.
    /// </summary>
    public static OptionsBuilder<T> AddHeraldSettings<T>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton(new SettingsSection(section, typeof(T), ValidateCopy<T>));
        return services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }

    /// <summary>
    /// Makes a section's keys known without binding it: for the engines a host ships but did not
    /// choose (<c>herald serve --store memory</c> with <c>Herald:Sqlite</c> settings in its
    /// appsettings.json), whose settings are checked for spelling and type but not used.
    /// </summary>
    public static IServiceCollection AddKnownHeraldSettings<T>(this IServiceCollection services, string section)
        where T : class
        => services.AddSingleton(new SettingsSection(section, typeof(T), validate: null));

    private static IEnumerable<string> ValidateCopy<T>(IConfiguration section, IServiceProvider services)
        where T : class, new()
    {
        var options = new T();
        section.Bind(options);
        foreach (var validator in services.GetServices<IValidateOptions<T>>())
        {
            var result = validator.Validate(Options.DefaultName, options);
            if (!result.Failed)
                continue;
            foreach (var failure in result.Failures ?? [result.FailureMessage])
                yield return failure;
        }
    }
}

/// <summary>The start-up check found invalid settings; <see cref="Problems"/> has one line per problem.</summary>
public sealed class InvalidSettingsException : Exception
{
    public InvalidSettingsException()
        : this([])
    {
    }

    public InvalidSettingsException(string message)
        : this([message])
    {
    }

    public InvalidSettingsException(string message, Exception innerException)
        : base(message, innerException) => Problems = [message];

    public InvalidSettingsException(IReadOnlyList<string> problems)
        : base("Invalid settings:" + Environment.NewLine + string.Join(Environment.NewLine, problems)) => Problems = problems;

    public IReadOnlyList<string> Problems { get; }
}
