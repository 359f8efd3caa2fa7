using System.Diagnostics;
using System.Net;
using System.Text.Json.Serialization;
using CitySight.Cases;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using CitySight.Domain;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using DomainCase = CitySight.Domain.Case;

namespace CitySight.Bench;

/// <summary>Progress of a phase, for the command's display.</summary>
internal interface IFeedBenchProgress
{
    void Phase(string name, int total);
    void Progress(string name, int committed, int slowestReceived);
    void Done(string name, string summary);
}
