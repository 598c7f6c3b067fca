using System.Buffers;
using System.Text.Json;
using Herald.Engine;
using Herald.Hub;
using Herald.Publishing;

namespace Herald.Http;

/// <summary>
/// The history answer of <c>view=latest</c> (HTTP and the WebSocket <c>history</c> op): each message
/// is the one publication object (<see cref="PublicationEncoder"/>) with its newest <c>data</c>
/// (null when deleted) and the members of the fold — <c>version</c>, <c>editedAt</c>,
/// <c>deleted</c>, <c>reactions</c>, <c>thread</c> (docs/protocol.md).
/// </summary>
internal static class LatestViewEncoder
{
    /// <summary>The history members (<c>channel</c>, <c>epoch</c>, <c>top</c>, <c>first</c>, <c>publications</c>) of a latest page.</summary>
    public static void WriteHistoryMembers(Utf8JsonWriter writer, string channel, StreamState state, IReadOnlyList<LatestMessage> messages)
    {
        writer.WriteString("channel"u8, channel);
        writer.WriteString("epoch"u8, state.Epoch);
        writer.WriteNumber("top"u8, state.Top);
        writer.WriteNumber("first"u8, state.First);
        writer.WriteStartArray("publications"u8);
        foreach (var message in messages)
            WriteMessage(writer, message);
        writer.WriteEndArray();
    }

    /// <summary>One folded message.</summary>
    public static void WriteMessage(Utf8JsonWriter writer, LatestMessage message)
    {
        // The publication's members exactly as every transport writes them, whatever they become;
        // only data is the fold's.
        var original = new ArrayBufferWriter<byte>(256 + message.Publication.Data.Length);
        using (var originalWriter = new Utf8JsonWriter(original))
            PublicationEncoder.WriteObject(originalWriter, message.Publication);
        using var document = JsonDocument.Parse(original.WrittenMemory);

        writer.WriteStartObject();
        foreach (var member in document.RootElement.EnumerateObject())
        {
            if (!member.NameEquals("data"u8))
                member.WriteTo(writer);
        }

        writer.WritePropertyName("data"u8);
        if (message.Deleted)
            writer.WriteNullValue();
        else
            Hub.PublicationEncoder.WriteData(writer, message.Data.Span);
        writer.WriteNumber("version"u8, message.Version);
        if (message.EditedAt is { } editedAt)
            writer.WriteString("editedAt"u8, editedAt.UtcDateTime);
        if (message.Deleted)
            writer.WriteBoolean("deleted"u8, true);
        WriteReactions(writer, message.Reactions);
        if (!message.Thread.IsEmpty)
            WriteThread(writer, message.Thread.Span);
        writer.WriteEndObject();
    }

    private static void WriteReactions(Utf8JsonWriter writer, IReadOnlyList<ReactionCount> reactions)
    {
        if (reactions.Count == 0)
            return;
        writer.WriteStartArray("reactions"u8);
        foreach (var reaction in reactions)
        {
            writer.WriteStartObject();
            writer.WriteString("key"u8, reaction.Key);
            writer.WriteNumber("count"u8, reaction.Count);
            writer.WriteStartArray("users"u8);
            foreach (var user in reaction.Users)
                writer.WriteStringValue(user);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>The summary's members but <c>ref</c>: <c>{"replies", "last"}</c>.</summary>
    private static void WriteThread(Utf8JsonWriter writer, ReadOnlySpan<byte> summary)
    {
        var reader = new Utf8JsonReader(summary);
        using var document = JsonDocument.ParseValue(ref reader);
        writer.WriteStartObject("thread"u8);
        foreach (var member in document.RootElement.EnumerateObject())
        {
            if (!member.NameEquals("ref"u8))
                member.WriteTo(writer);
        }

        writer.WriteEndObject();
    }
}
