namespace Herald.Tests.Http;

/// <summary><c>Herald:Cors</c> is validated at start, each setting at its boundary.</summary>
public sealed class CorsOptionsTests
{
    [Theory]
    [InlineData("*")]
    [InlineData("https://app.example.com")]
    [InlineData("https://app.example.com/")]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://[::1]:3000")]
    public void An_origin_or_star_is_accepted(string origin)
    {
        var options = new HeraldOptions();
        options.Cors.AllowedOrigins.Add(origin);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData("app.example.com")]
    [InlineData("https://app.example.com/chat")]
    [InlineData("https://app.example.com?x=1")]
    [InlineData("ftp://app.example.com")]
    [InlineData("https://user@app.example.com")]
    [InlineData("*.example.com")]
    [InlineData("")]
    public void Anything_else_is_named_in_the_errors(string origin)
    {
        var options = new HeraldOptions();
        options.Cors.AllowedOrigins.Add(origin);
        var error = Assert.Single(options.Validate());
        Assert.StartsWith($"Herald:Cors:AllowedOrigins: '{origin}' is not an origin", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00", true)]
    [InlineData("1.00:00:00", true)]
    [InlineData("-00:00:00.001", false)]
    [InlineData("1.00:00:00.001", false)]
    public void The_preflight_max_age_is_0_to_1_day(string value, bool valid)
    {
        var options = new HeraldOptions();
        options.Cors.PreflightMaxAge = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        var errors = options.Validate();
        if (valid)
            Assert.Empty(errors);
        else
            Assert.StartsWith("Herald:Cors:PreflightMaxAge", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_list_of_its_own_the_websocket_origins_are_in_force()
    {
        var options = new HeraldOptions();
        options.Transports.AllowedOrigins.Add("https://ws.example/");
        Assert.Equal(["https://ws.example"], options.Cors.EffectiveOrigins(options.Transports.AllowedOrigins));
        options.Cors.AllowedOrigins.Add("https://api.example");
        Assert.Equal(["https://api.example"], options.Cors.EffectiveOrigins(options.Transports.AllowedOrigins));
        Assert.Empty(new HeraldOptions().Cors.EffectiveOrigins([]));
    }
}
