"""The lmkg vocabulary and the IRIs of its graphs and resources: no IRI strings elsewhere."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace


class LMKG(DefinedNamespace):
    """Terms of the lmkg ontology (ontology/lmkg.ttl); a misspelt term raises."""

    _fail = True
    _NS = Namespace("https://w3id.org/lmkg/ontology#")

    # classes: models and their categories
    LanguageModel: URIRef  # a trained model of natural language
    ModelFamily: URIRef  # a named family, apart from its checkpoints
    LargeLanguageModel: URIRef  # classified large by its source
    SmallLanguageModel: URIRef  # classified small by its source
    ModelUnderSizeThreshold: URIRef  # at most 10 billion parameters
    ModelOverSizeThreshold: URIRef  # more than 10 billion parameters
    # size rules: classes a reasoner fills from a model's size
    FitsLaptopAt4Bit: URIRef  # 4-bit weights fit a laptop's memory
    ExceedsLaptopAt4Bit: URIRef  # they do not
    QLoRAFitsConsumerGPU: URIRef  # QLoRA fine-tuning fits one consumer GPU
    QLoRAExceedsConsumerGPU: URIRef  # it does not
    ActiveParametersUnderSizeThreshold: URIRef  # at most 10B parameters read per token
    ActiveParametersOverSizeThreshold: URIRef  # more
    # verdicts: filled by the verdict rule (lmkg.evidence), three-valued (neither = unknown)
    PortableModel: URIRef  # portable, by observation or size rule
    NonPortableModel: URIRef  # known not portable
    CheapToFineTuneModel: URIRef  # cheap to fine-tune
    CostlyToFineTuneModel: URIRef  # known costly to fine-tune
    RealTimeCapableModel: URIRef  # fast
    NotRealTimeCapableModel: URIRef  # known not fast
    VersatileModel: URIRef  # versatile generation, from its own evidence
    SpecialisedModel: URIRef  # focused generation, from its own evidence
    Verdict: URIRef  # one trait's verdict with its basis
    # evidence
    Dataset: URIRef  # a named training dataset
    DeviceClass: URIRef  # hardware with a memory budget
    ConsumerHardware: URIRef  # phone, laptop, one consumer GPU
    LimitedResourceDevice: URIRef  # phone, laptop
    PhoneDevice: URIRef
    LaptopDevice: URIRef
    ConsumerGPUDevice: URIRef
    DataCentreGPUDevice: URIRef
    MultiGPUNodeDevice: URIRef
    Observation: URIRef  # what a source saw a model do
    DeploymentObservation: URIRef  # ran on a device
    FineTuningObservation: URIRef  # fine-tuned on some hardware
    Statement: URIRef  # one source's value for one fact
    CategoryClaim: URIRef  # the source document on a category, in its words
    # value partitions
    Trait: URIRef  # parent of every value partition
    TrainingDataScope: URIRef
    BroadTrainingData: URIRef
    FocusedTrainingData: URIRef
    GenerationScope: URIRef
    VersatileGeneration: URIRef
    FocusedGeneration: URIRef
    ResourceDemand: URIRef
    HighResourceDemand: URIRef
    LowResourceDemand: URIRef
    ProcessingSpeed: URIRef
    FastProcessing: URIRef
    SlowProcessing: URIRef
    Portability: URIRef
    HighPortability: URIRef
    LowPortability: URIRef
    FineTuningCost: URIRef
    LowFineTuningCost: URIRef
    HighFineTuningCost: URIRef
    # other classes
    Organisation: URIRef  # develops models
    AIProduct: URIRef  # a product built on a model, not a model
    SourceDocument: URIRef  # a document whose claims are recorded
    SourceClaim: URIRef  # what a source says, in its words
    # properties
    parameterCount: URIRef  # xsd:integer
    hasTrainingDataScope: URIRef
    hasGenerationScope: URIRef
    hasResourceDemand: URIRef
    hasProcessingSpeed: URIRef
    hasPortability: URIRef
    hasFineTuningCost: URIRef
    specialisesIn: URIRef  # topic, task or industry, in words
    task: URIRef  # task, in words
    developedBy: URIRef  # model or product -> organisation
    builtOn: URIRef  # product -> model
    variantOf: URIRef  # variant -> family
    fineTunedFrom: URIRef  # model -> base model
    releaseDate: URIRef  # xsd:dateTime
    licence: URIRef  # SPDX identifier or "proprietary" (JSON field: license)
    openWeights: URIRef  # xsd:boolean
    trainingTokens: URIRef  # xsd:integer
    trainingCompute: URIRef  # xsd:double, FLOP
    domain: URIRef  # field of application, in words
    kindBasis: URIRef  # "source" or "size-threshold": what the kind rests on
    claimAbout: URIRef  # claim -> thing
    claimIn: URIRef  # claim -> source document
    claimText: URIRef  # the source's words
    claimedKind: URIRef  # "llm" or "slm"
    curatorNote: URIRef  # what checking the claim found
    activeParameterCount: URIRef  # xsd:integer, mixture of experts
    contextLength: URIRef  # xsd:integer, tokens
    architecture: URIRef  # in words
    inputModality: URIRef  # "text", "image", ...
    outputModality: URIRef
    weightsPrecision: URIRef  # "bf16", "4-bit", ...
    trainedOn: URIRef  # model -> dataset
    trainingDatapoints: URIRef  # xsd:integer, in trainingDatapointsUnit
    trainingDatapointsUnit: URIRef
    memoryBudgetBytes: URIRef  # device class -> xsd:integer
    hasObservation: URIRef  # model -> observation
    onDevice: URIRef  # observation -> device class
    atPrecision: URIRef  # observation -> "4-bit"
    fineTuningMethod: URIRef  # "QLoRA", "LoRA", "full"
    hasVerdict: URIRef  # model -> verdict
    verdictOn: URIRef  # "portable", "cheapToFineTune", "fast"
    verdictValue: URIRef  # xsd:boolean
    basis: URIRef  # "observation" or "size-rule"
    basisDetail: URIRef  # the evidence and rule in a sentence
    hasStatement: URIRef  # model -> statement
    statedProperty: URIRef  # statement -> property
    statedValue: URIRef  # statement -> value
    sourceKind: URIRef  # "curated", "paper-or-card", "epoch", "ecosystem-graphs", "source-document"
    retrievedOn: URIRef  # xsd:dateTime
    confidence: URIRef  # "confident", "likely", "speculative"
    hedge: URIRef  # "typically", "generally", ... or "none"
    section: URIRef  # the source's section heading
    partOf: URIRef  # organisation -> organisation
    derivation: URIRef  # "fine-tune", "adapter", "merge", "distillation", "quantisation"
    status: URIRef  # "withdrawn"
    # annotation properties
    sourceStatement: URIRef  # the source sentence an axiom states
    thresholdParameters: URIRef  # the threshold of a size class, as a number
    ruleFormula: URIRef  # how a size rule's threshold is computed
    aboutCategory: URIRef  # category claim -> class
    claimedTrait: URIRef  # category claim -> trait value class
    # importers of real data sets (issue 13)
    LanguageModelOfUnknownKind: URIRef  # neither its category nor its size is known


MLS = Namespace("http://www.w3.org/ns/mls#")
AIO = Namespace("https://w3id.org/aio/")
SCHEMA = Namespace("https://schema.org/")
VANN = Namespace("http://purl.org/vocab/vann/")

ONTOLOGY_IRI = URIRef("https://w3id.org/lmkg/ontology")
MODEL = Namespace("https://w3id.org/lmkg/model/")
ORG = Namespace("https://w3id.org/lmkg/org/")
PRODUCT = Namespace("https://w3id.org/lmkg/product/")
SOURCE = Namespace("https://w3id.org/lmkg/source/")
DATASET = Namespace("https://w3id.org/lmkg/dataset/")
STATEMENT = Namespace("https://w3id.org/lmkg/statement/")
OBSERVATION = Namespace("https://w3id.org/lmkg/observation/")
VERDICT = Namespace("https://w3id.org/lmkg/verdict/")

GRAPH_ONTOLOGY = URIRef("https://w3id.org/lmkg/graph/ontology")
GRAPH_SOURCE_NS = Namespace("https://w3id.org/lmkg/graph/source/")
GRAPH_SOURCE = GRAPH_SOURCE_NS["llm-vs-slm"]
"""The source document's graph: the document and its claims, in its own words."""
GRAPH_INFERRED = URIRef("https://w3id.org/lmkg/graph/inferred")
GRAPH_MODEL = Namespace("https://w3id.org/lmkg/graph/model/")
GRAPH_CHANGES = URIRef("https://w3id.org/lmkg/graph/changes")
"""The change log's head: the last write's change, and how far the log was pruned (lmkg.readindex)."""
GRAPH_CHANGE_NS = Namespace("https://w3id.org/lmkg/graph/changes/")
"""The change log: one graph per minute (`minute/{n}`) holding the changes stamped in it, each
naming the entries it changed (lmkg.readindex); a minute's graph is dropped after an hour."""


class CHANGES(DefinedNamespace):
    """Terms of the change log that read indexes follow (lmkg.readindex); not part of the ontology."""

    _fail = True
    _NS = Namespace("https://w3id.org/lmkg/changes#")

    last: URIRef  # head -> the last change
    prunedBefore: URIRef  # head -> every change stamped before this (ns, xsd:integer) may be gone
    at: URIRef  # change -> when it was committed, nanoseconds since the epoch (xsd:integer)
    entry: URIRef  # change -> a model it changed
    everyEntry: URIRef  # change -> true: anything may have changed (a SPARQL Update, reasoning)
    follows: URIRef  # change -> the change that was the head when it was written (its parent)

PREFIXES: dict[str, str] = {
    "lmkg": str(LMKG._NS),
    "model": str(MODEL),
    "org": str(ORG),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
}
"""Prefixes pre-declared for named queries, the CLI and the web UI's editor."""


def source_graph(name: str) -> URIRef:
    """The graph that describes one source (a document or a data set) and its claims."""
    return GRAPH_SOURCE_NS[name]


def model_iri(model_id: str) -> URIRef:
    return MODEL[model_id]


def model_graph(model_id: str) -> URIRef:
    return GRAPH_MODEL[model_id]


def model_id_of(iri: str) -> str | None:
    """The id of a model IRI, or None when the IRI is not a model entry."""
    prefix = str(MODEL)
    return iri[len(prefix) :] if iri.startswith(prefix) else None
