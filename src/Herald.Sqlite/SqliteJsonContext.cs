using System.Text.Json.Serialization;

namespace Herald.Sqlite;

/// <summary>JSON the SQLite engine hands to SQLite itself (<c>json_each</c> parameters).</summary>
[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;
