namespace Herald.Hub;

/// <summary>How a transport frames one pushed message; a publication is encoded once per format.</summary>
public enum WireFormat
{
    /// <summary>One JSON object per message (WebSocket push). The transport decides the framing of a batch.</summary>
    Json = 0,

    /// <summary>A complete Server-Sent Events event: <c>id:</c>, <c>event:</c>, <c>data:</c> lines and the blank line.</summary>
    Sse = 1,

    /// <summary>One JSON object followed by <c>'\n'</c> (HTTP streaming, <c>application/x-ndjson</c>).</summary>
    Ndjson = 2,
}
