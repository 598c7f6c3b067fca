using Herald.Webhooks.Outbound;

namespace Herald.Tests.Webhooks;

/// <summary>Channel patterns, the subscription index, the retry schedule and what an attempt's result does to a delivery.</summary>
public sealed class OutboundRulesTests
{
    [Theory]
    [InlineData("orders:eu", "orders:eu", true)]
    [InlineData("orders:eu", "orders:eu2", false)]
    [InlineData("orders:eu", "orders:e", false)]
    [InlineData("orders:*", "orders:anything", true)]
    [InlineData("orders:*", "orders2:x", false)]
    [InlineData("orders:*", "order:x", false)]
    [InlineData("orders:eu-*", "orders:eu-1", true)]
    [InlineData("orders:eu-*", "orders:eu", false)]
    [InlineData("orders:eu-*", "orders:us-1", false)]
    [InlineData("orders:eu-*", "other:eu-1", false)]
    [InlineData("*", "any:thing", true)]
    public void A_pattern_matches_exactly_its_channels(string pattern, string channel, bool matches)
    {
        Assert.True(ChannelPattern.TryParse(pattern, out var parsed, out var error), error);
        Assert.Equal(matches, parsed.Matches(channel));
    }

    [Theory]
    [InlineData("")]
    [InlineData("**")]
    [InlineData("orders")]
    [InlineData("orders:")]
    [InlineData("*:eu")]
    [InlineData("ord*:eu")]
    [InlineData("orders:*eu")]
    [InlineData("orders:e*u*")]
    [InlineData("Orders:*")]
    [InlineData("orders:e u*")]
    public void Malformed_patterns_are_refused(string pattern) => Assert.False(ChannelPattern.TryParse(pattern, out _, out _));

    [Fact]
    public void The_index_gives_each_matching_enabled_subscription_once()
    {
        var now = DateTimeOffset.UtcNow;
        WebhookSubscription Sub(string id, bool enabled, params string[] channels) => new(id, "https://example.com/", channels, "whsec_x", enabled, false, null, now, now, null);
        var overlapping = Sub("a", true, "orders:*", "orders:eu", "orders:e*");
        var disabled = Sub("b", false, "orders:eu");
        var other = Sub("c", true, "chat:*");
        var all = Sub("d", true, "*");
        var index = new SubscriptionIndex([overlapping, disabled, other, all]);

        var matches = new List<WebhookSubscription>();
        index.Match("orders:eu", matches);
        Assert.Equal(["a", "d"], matches.Select(s => s.Id).Order());

        matches.Clear();
        index.Match("billing:x", matches);
        Assert.Equal(["d"], matches.Select(s => s.Id));
        Assert.Equal(0, SubscriptionIndex.Empty.Count);
    }

    [Fact]
    public void The_default_retry_schedule_is_the_published_one()
    {
        Assert.True(RetrySchedule.TryParse(RetrySchedule.Default, out var schedule, out _));
        Assert.Equal(
            [TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10)],
            schedule.Delays);
        Assert.Equal("0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h", schedule.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("-1s")]
    [InlineData("1.5s")]
    [InlineData("1s,,2s")]
    [InlineData("8d")]
    public void Malformed_schedules_are_refused(string text) => Assert.False(RetrySchedule.TryParse(text, out _, out _));

    [Fact]
    public void A_schedule_accepts_50_entries_and_7_days_but_no_more()
    {
        Assert.True(RetrySchedule.TryParse(string.Join(',', Enumerable.Repeat("1ms", 50)), out _, out _));
        Assert.False(RetrySchedule.TryParse(string.Join(',', Enumerable.Repeat("1ms", 51)), out _, out _));
        Assert.True(RetrySchedule.TryParse("7d", out _, out _));
        Assert.True(RetrySchedule.TryParse("168h", out _, out _));
        Assert.False(RetrySchedule.TryParse("169h", out _, out _));
    }

    [Fact]
    public void An_attempt_result_delivers_retries_on_the_schedule_dead_letters_after_the_last_or_at_410()
    {
        Assert.True(RetrySchedule.TryParse("0s, 5s, 5m", out var schedule, out _));
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        var first = new DueDelivery(7, "msg_x", Array.Empty<byte>(), Attempts: 0, TotalAttempts: 0);

        var delivered = DeliveryWorker.Decide("sub", first, new SendResult(204, 3, null), schedule, now);
        Assert.Equal(DeliveryStatus.Delivered, delivered.Status);
        Assert.Equal(1, delivered.Attempt.Number);

        var retry = DeliveryWorker.Decide("sub", first, new SendResult(500, 3, "HTTP 500"), schedule, now);
        Assert.Equal(DeliveryStatus.Pending, retry.Status);
        Assert.Equal(now.AddSeconds(5).ToUnixTimeMilliseconds(), retry.NextMs);

        var second = first with { Attempts = 1, TotalAttempts = 1 };
        Assert.Equal(now.AddMinutes(5).ToUnixTimeMilliseconds(), DeliveryWorker.Decide("sub", second, new SendResult(null, 15000, "timeout"), schedule, now).NextMs);

        var last = first with { Attempts = 2, TotalAttempts = 6 };
        var dead = DeliveryWorker.Decide("sub", last, new SendResult(302, 1, "HTTP 302"), schedule, now);
        Assert.Equal(DeliveryStatus.Dead, dead.Status);
        Assert.Equal(7, dead.Attempt.Number);
        Assert.Null(dead.DisableReason);

        var gone = DeliveryWorker.Decide("sub", first, new SendResult(410, 1, "HTTP 410"), schedule, now);
        Assert.Equal(DeliveryStatus.Dead, gone.Status);
        Assert.Contains("410", gone.DisableReason, StringComparison.Ordinal);
    }
}

/// <summary><c>Herald:Webhooks:Outbound</c> is validated at start, each limit at its boundary.</summary>
public sealed class OutboundOptionsTests
{
    [Fact]
    public void The_defaults_are_valid() => Assert.Empty(new HeraldOptions().Validate());

    [Theory]
    [InlineData(nameof(OutboundWebhookOptions.RetrySchedule), "0s, 5x", "RetrySchedule")]
    [InlineData(nameof(OutboundWebhookOptions.AttemptTimeout), "00:00:00.099", "AttemptTimeout")]
    [InlineData(nameof(OutboundWebhookOptions.AttemptTimeout), "00:10:00.001", "AttemptTimeout")]
    [InlineData(nameof(OutboundWebhookOptions.MaxConcurrency), "0", "MaxConcurrency")]
    [InlineData(nameof(OutboundWebhookOptions.MaxConcurrency), "10001", "MaxConcurrency")]
    [InlineData(nameof(OutboundWebhookOptions.MaxConcurrencyPerSubscription), "0", "MaxConcurrencyPerSubscription")]
    [InlineData(nameof(OutboundWebhookOptions.MaxConcurrencyPerSubscription), "257", "MaxConcurrencyPerSubscription")]
    [InlineData(nameof(OutboundWebhookOptions.DeliveryRetention), "00:00:59", "DeliveryRetention")]
    [InlineData(nameof(OutboundWebhookOptions.MaxSubscriptions), "0", "MaxSubscriptions")]
    [InlineData(nameof(OutboundWebhookOptions.MaxChannelPatterns), "0", "MaxChannelPatterns")]
    [InlineData(nameof(OutboundWebhookOptions.MaxUrlLength), "31", "MaxUrlLength")]
    [InlineData(nameof(OutboundWebhookOptions.MaxPageSize), "0", "MaxPageSize")]
    public void Each_setting_out_of_range_is_named_in_the_errors(string setting, string value, string named)
    {
        var options = new HeraldOptions();
        Set(options.Webhooks.Outbound, setting, value);
        var errors = options.Validate();
        Assert.Contains(errors, e => e.StartsWith("Herald:Webhooks:Outbound:" + named + " ", StringComparison.Ordinal) || e.StartsWith("Herald:Webhooks:Outbound:" + named + ":", StringComparison.Ordinal));
        Assert.All(errors, e => Assert.StartsWith("Herald:Webhooks:Outbound:", e, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(nameof(OutboundWebhookOptions.AttemptTimeout), "00:00:00.1")]
    [InlineData(nameof(OutboundWebhookOptions.AttemptTimeout), "00:10:00")]
    [InlineData(nameof(OutboundWebhookOptions.MaxConcurrencyPerSubscription), "256")]
    [InlineData(nameof(OutboundWebhookOptions.DeliveryRetention), "00:01:00")]
    [InlineData(nameof(OutboundWebhookOptions.MaxUrlLength), "32")]
    [InlineData(nameof(OutboundWebhookOptions.MaxPageSize), "1")]
    public void Each_setting_at_its_boundary_is_accepted(string setting, string value)
    {
        var options = new HeraldOptions();
        Set(options.Webhooks.Outbound, setting, value);
        Assert.Empty(options.Validate());
    }

    private static void Set(OutboundWebhookOptions options, string setting, string value)
    {
        var property = typeof(OutboundWebhookOptions).GetProperty(setting)!;
        object parsed = property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : property.PropertyType == typeof(int) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : value;
        property.SetValue(options, parsed);
    }
}
