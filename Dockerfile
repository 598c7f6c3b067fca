# syntax=docker/dockerfile:1
# Herald in a container (docs/deploy.md): built from source in the .NET SDK image, run on the
# ASP.NET Core runtime image as its non-root user, with the data directory on a volume.
#
#   docker build -t herald .
#   docker run -d --name herald -p 8080:8080 -v herald-data:/data herald
#   docker exec herald cat /data/api-key        # the generated API key (or set HERALD__APIKEYS__0)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
# Framework-dependent: the runtime image below supplies .NET and ASP.NET Core (and their patches).
RUN dotnet publish src/Herald.Server -c Release -o /app -p:DebugType=none \
 && rm /app/appsettings.Development.json

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The data directory (SQLite log, generated api-key and token-secret) belongs to the image's
# non-root user ($APP_UID, 1654); a named volume created on /data inherits that ownership.
RUN mkdir /data && chown "$APP_UID" /data
VOLUME /data
USER $APP_UID
# Listen on every interface of the container; the image's own HTTP_PORTS would only be
# overridden by serve's --urls (with a warning).
ENV HERALD__DATADIRECTORY=/data \
    ASPNETCORE_HTTP_PORTS= \
    DOTNET_NOLOGO=1
EXPOSE 8080
ENTRYPOINT ["dotnet", "herald.dll"]
CMD ["serve", "--urls", "http://0.0.0.0:8080"]
