using System.Text.Json;
using Herald.Webhooks.Inbound;

namespace Herald.Tests.Webhooks;

public sealed class WebhookChannelTemplateTests
{
    [Theory]
    [InlineData("notify:{repository.full_name}", "{\"repository\":{\"full_name\":\"octo/hello world\"}}", "notify:octo-hello-world")]
    [InlineData("notify:deploys", "{}", "notify:deploys")]
    [InlineData("ci:run-{run.id}", "{\"run\":{\"id\":42}}", "ci:run-42")]
    [InlineData("ci:{items.1}", "{\"items\":[\"a\",\"b\"]}", "ci:b")]
    public void Fills_placeholders_and_replaces_disallowed_characters(string template, string body, string expected)
    {
        var parsed = ChannelTemplate.Parse(template, out var error);
        Assert.True(parsed is not null, error);
        using var document = JsonDocument.Parse(body);
        Assert.True(parsed.TryFill(document.RootElement, out var channel, out error), error);
        Assert.Equal(expected, channel);
    }

    [Theory]
    [InlineData("{\"repository\":{}}")]
    [InlineData("{\"repository\":{\"full_name\":{}}}")]
    [InlineData("[]")]
    public void Refuses_a_missing_path(string body)
    {
        var parsed = ChannelTemplate.Parse("notify:{repository.full_name}", out _)!;
        using var document = JsonDocument.Parse(body);
        Assert.False(parsed.TryFill(document.RootElement, out _, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("nonamespace")]
    [InlineData("{ns}:x")]
    [InlineData("notify:{a")]
    [InlineData("notify:a}")]
    [InlineData("notify:{}")]
    [InlineData("notify:{a..b}")]
    [InlineData("notify:bad/name")]
    public void Refuses_malformed_templates(string template) => Assert.Null(ChannelTemplate.Parse(template, out _));

    [Fact]
    public void Source_options_are_validated()
    {
        var options = new HeraldOptions();
        options.Webhooks.Sources["Bad Name"] = new WebhookSourceOptions { Scheme = WebhookScheme.StandardWebhooks, Channel = "notify:x" };
        options.Webhooks.Sources["Bad Name"].Secrets.Add("whsec_***");
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains("source name", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Secrets:0", StringComparison.Ordinal));
    }
}
