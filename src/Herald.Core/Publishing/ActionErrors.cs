namespace Herald.Publishing;

/// <summary>
/// How every entry point answers a publish refused by <see cref="ActionCheck"/>: the same status and
/// <c>code</c> over HTTP (a problem document), the WebSocket (an error reply) and inbound webhooks.
/// </summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Code">The stable code (docs/protocol.md, "Errors").</param>
/// <param name="Title">The problem document's title.</param>
public sealed record ActionErrors(int Status, string Code, string Title)
{
    private static readonly ActionErrors s_reservedType = new(400, "invalid_type", "Reserved publication type");
    private static readonly ActionErrors s_invalidAction = new(400, "invalid_action", "Invalid action");
    private static readonly ActionErrors s_messageNotFound = new(404, "message_not_found", "Message not found");
    private static readonly ActionErrors s_notAuthor = new(403, "not_author", "Not the author");
    private static readonly ActionErrors s_editsDisabled = new(403, "edits_disabled", "Edits are off");
    private static readonly ActionErrors s_reactionsDisabled = new(403, "reactions_disabled", "Reactions are off");
    private static readonly ActionErrors s_threadsDisabled = new(403, "threads_disabled", "Threads are off");

    /// <summary>The answer to <paramref name="error"/> when it is one of the action errors; null otherwise.</summary>
    public static ActionErrors? Of(PublishError error) => error switch
    {
        PublishError.ReservedType => s_reservedType,
        PublishError.InvalidAction => s_invalidAction,
        PublishError.MessageNotFound => s_messageNotFound,
        PublishError.NotAuthor => s_notAuthor,
        PublishError.EditsDisabled => s_editsDisabled,
        PublishError.ReactionsDisabled => s_reactionsDisabled,
        PublishError.ThreadsDisabled => s_threadsDisabled,
        _ => null,
    };
}
