using Herald.Publishing;
using Herald.Webhooks.Inbound;

namespace Herald.Tests.Webhooks;

/// <summary>An inbound delivery's event type becomes the publication's type, cut to <see cref="PublishService.MaxTypeLength"/>.</summary>
public sealed class WebhookTypeTests
{
    [Theory]
    [InlineData(null, "webhook")]
    [InlineData("", "webhook")]
    [InlineData("invoice.paid", "invoice.paid")]
    public void Short_or_missing_types(string? eventType, string expected) =>
        Assert.Equal(expected, InboundWebhookEndpoint.TypeOf(eventType));

    [Fact]
    public void Long_type_is_cut_to_64_characters() =>
        Assert.Equal(new string('a', 64), InboundWebhookEndpoint.TypeOf(new string('a', 100)));

    /// <summary>
    /// Found with the webhook-body fuzz target's invariant (a stored type is valid Unicode): a body
    /// whose <c>type</c> had a character outside the BMP across the 64th position was cut between
    /// the halves of its surrogate pair, and the lone half became U+FFFD on the wire and in SQLite.
    /// </summary>
    [Fact]
    public void Cut_never_splits_a_surrogate_pair()
    {
        var type = InboundWebhookEndpoint.TypeOf(new string('a', 63) + "\U0001F600" + "tail");
        Assert.Equal(new string('a', 63), type);
        Assert.True(PublishService.IsValidType(type));
        Assert.Equal(type, System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(type)));
    }
}
