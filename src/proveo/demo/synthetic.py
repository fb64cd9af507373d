"""Synthetic companies for benchmarks: `proveo seed --synthetic N [--seed S]`.

Realistic enough to load search the way a real directory would: Spanish names and addresses,
Spanish and English descriptions (some machine-made, some still pending), every commune and
product, a Zipf-like skew (a few big communes such as Santiago, Providencia and Las Condes, a
few big categories), one common word (`COMMON_WORD`) in about 40 % of companies and one rare
word (`RARE_WORD`) in about 0.1 %. Company `i` depends only on the seed and `i`, so a run is
reproducible and a larger N extends a smaller one.

Profiles are filled like a real directory's: most companies give a RUT (76.000.001-x onwards,
unique, with its check digit), a year founded and a size band, a third a website; about a fifth
serve a few neighbouring regions and 8 % all of Chile; about 30 % have one or two categories
besides the primary one (`company_product`, copied too).

Each company has its own verified owner (one live company per user) with one shared password
hash, computed once: `SYNTHETIC_PASSWORD`, public like the demo's, so production refuses it.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from proveo.catalog.data import COMMUNES, PRODUCTS, REGIONS
from proveo.core.db import Connection
from proveo.demo import repository
from proveo.demo.schemas import SyntheticCompany

SYNTHETIC_PASSWORD = "SyntheticPass123!"  # noqa: S105 - public bench credential, refused in production
# The word the bench's "common word" case searches for, and how it is misspelt there.
COMMON_WORD = "servicios"
COMMON_WORD_EN = "services"
MISSPELT_COMMON_WORD = "servisios"
COMMON_SHARE = 0.40
RARE_WORD = "termofusión"
RARE_SHARE = 0.001
# Rows generated and copied per round trip: bounded memory whatever N is.
BATCH_SIZE = 5_000


def synthetic_email(index: int) -> str:
    """The owner's address (example.com is reserved: nothing is ever delivered there)."""
    return f"synthetic-{index:07d}@example.com"


def synthetic_index(email: str) -> int | None:
    prefix, _, domain = email.partition("@")
    if domain != "example.com" or not prefix.startswith("synthetic-"):
        return None
    number = prefix.removeprefix("synthetic-")
    return int(number) if number.isdigit() else None


# --- Vocabulary ---------------------------------------------------------------------------------
# Per category: words that start a company name, and what it does (Spanish, English). None of
# these phrases contains the common word: it is placed on purpose (see `_common`).
_CATEGORY: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "Construcción": (
        ("Constructora", "Construcciones", "Obras"),
        (
            (
                "obras menores, ampliaciones y remodelaciones",
                "minor works, extensions and refurbishments",
            ),
            ("construcción de galpones y bodegas", "construction of sheds and warehouses"),
            ("obra gruesa y terminaciones", "structural work and finishing"),
        ),
    ),
    "Servicios contables": (
        ("Contadores", "Contable", "Asesorías Contables"),
        (
            (
                "contabilidad mensual, remuneraciones e impuestos",
                "monthly bookkeeping, payroll and taxes",
            ),
            (
                "declaraciones de renta y trámites ante el SII",
                "income tax returns and SII procedures",
            ),
        ),
    ),
    "Desarrollo de software": (
        ("Software", "Desarrollos", "Tecnologías"),
        (
            ("desarrollo de aplicaciones web y móviles", "web and mobile application development"),
            ("sistemas a medida e integraciones", "custom systems and integrations"),
        ),
    ),
    "Transporte y logística": (
        ("Transportes", "Logística", "Fletes"),
        (
            ("transporte de carga y distribución", "freight transport and distribution"),
            ("almacenaje y logística de última milla", "warehousing and last-mile logistics"),
        ),
    ),
    "Limpieza industrial": (
        ("Limpieza", "Aseo Industrial", "Higiene"),
        (
            ("aseo de oficinas, bodegas y plantas", "cleaning of offices, warehouses and plants"),
            ("limpieza de vidrios en altura", "high-rise window cleaning"),
        ),
    ),
    "Seguridad privada": (
        ("Seguridad", "Vigilancia", "Guardias"),
        (
            ("guardias de seguridad y control de acceso", "security guards and access control"),
            ("monitoreo de alarmas y cámaras", "alarm and camera monitoring"),
        ),
    ),
    "Asesoría legal": (
        ("Abogados", "Estudio Jurídico", "Legal"),
        (
            ("asesoría legal laboral y comercial", "employment and commercial legal advice"),
            ("contratos, cobranza y litigios", "contracts, debt collection and litigation"),
        ),
    ),
    "Marketing digital": (
        ("Marketing", "Agencia Digital", "Publicidad Digital"),
        (
            ("campañas en redes sociales y posicionamiento web", "social media campaigns and SEO"),
            ("publicidad en buscadores y analítica", "search advertising and analytics"),
        ),
    ),
    "Mantención eléctrica": (
        ("Eléctrica", "Electricidad", "Instalaciones Eléctricas"),
        (
            ("instalaciones y mantención eléctrica", "electrical installation and maintenance"),
            ("tableros eléctricos y certificación SEC", "switchboards and SEC certification"),
        ),
    ),
    "Climatización": (
        ("Climatización", "Clima", "Refrigeración"),
        (
            ("instalación de aire acondicionado", "air conditioning installation"),
            (
                "mantención de equipos de calefacción y ventilación",
                "heating and ventilation upkeep",
            ),
        ),
    ),
    "Gasfitería": (
        ("Gasfitería", "Gasfíter", "Sanitarios"),
        (
            ("gasfitería, redes de agua y alcantarillado", "plumbing, water and sewer networks"),
            ("reparación de calefont y filtraciones", "water heater and leak repairs"),
        ),
    ),
    "Arquitectura": (
        ("Arquitectos", "Arquitectura", "Taller de Arquitectura"),
        (
            (
                "proyectos de arquitectura y permisos de edificación",
                "architectural projects and permits",
            ),
            ("diseño de interiores para oficinas", "office interior design"),
        ),
    ),
    "Ingeniería civil": (
        ("Ingeniería", "Ingenieros", "Proyectos de Ingeniería"),
        (
            (
                "cálculo estructural e inspección técnica de obras",
                "structural design and site inspection",
            ),
            ("topografía y mecánica de suelos", "surveying and soil mechanics"),
        ),
    ),
    "Consultoría en gestión": (
        ("Consultores", "Consultoría", "Gestión"),
        (
            (
                "consultoría en procesos y planificación estratégica",
                "process and strategy consulting",
            ),
            (
                "mejora continua y control de gestión",
                "continuous improvement and management control",
            ),
        ),
    ),
    "Recursos humanos": (
        ("Recursos Humanos", "Personas", "Gestión de Personas"),
        (
            (
                "externalización de remuneraciones y clima laboral",
                "payroll outsourcing and workplace climate",
            ),
            ("evaluación de desempeño y compensaciones", "performance reviews and compensation"),
        ),
    ),
    "Reclutamiento y selección": (
        ("Selección", "Talentos", "Reclutamiento"),
        (
            ("reclutamiento y selección de personal", "recruitment and staff selection"),
            ("búsqueda de ejecutivos y evaluación psicolaboral", "executive search and assessment"),
        ),
    ),
    "Capacitación empresarial": (
        ("Capacitación", "Academia", "Formación"),
        (
            ("cursos de capacitación con código SENCE", "SENCE-certified training courses"),
            ("talleres de liderazgo y trabajo en equipo", "leadership and teamwork workshops"),
        ),
    ),
    "Soporte informático": (
        ("Informática", "Soporte TI", "Computación"),
        (
            ("soporte técnico y mesa de ayuda", "technical support and help desk"),
            ("redes, respaldos y mantención de equipos", "networks, backups and computer upkeep"),
        ),
    ),
    "Servicios en la nube": (
        ("Cloud", "Nube", "Datacenter"),
        (
            ("migración a la nube y hosting administrado", "cloud migration and managed hosting"),
            ("respaldo en la nube y correo corporativo", "cloud backup and business email"),
        ),
    ),
    "Ciberseguridad": (
        ("Ciberseguridad", "Seguridad Informática", "Ciberdefensa"),
        (
            (
                "auditorías de ciberseguridad y pruebas de penetración",
                "security audits and penetration tests",
            ),
            ("protección contra ransomware", "ransomware protection"),
        ),
    ),
    "Telecomunicaciones": (
        ("Telecomunicaciones", "Telecom", "Comunicaciones"),
        (
            ("enlaces de fibra óptica y telefonía IP", "fibre links and IP telephony"),
            ("cableado estructurado y radioenlaces", "structured cabling and radio links"),
        ),
    ),
    "Diseño gráfico": (
        ("Diseño", "Estudio Gráfico", "Diseño Gráfico"),
        (
            ("diseño de marca, logotipos y packaging", "branding, logos and packaging design"),
            ("diseño editorial y material corporativo", "editorial and corporate design"),
        ),
    ),
    "Imprenta y publicidad": (
        ("Imprenta", "Gráfica", "Impresiones"),
        (
            ("impresión offset y digital", "offset and digital printing"),
            ("letreros, pendones y señalética", "signs, banners and signage"),
        ),
    ),
    "Artículos de oficina": (
        ("Librería", "Distribuidora", "Suministros"),
        (
            ("artículos de oficina y papelería", "office supplies and stationery"),
            ("insumos de impresión y tóner", "printing supplies and toner"),
        ),
    ),
    "Mobiliario de oficina": (
        ("Muebles", "Mobiliario", "Equipamiento"),
        (
            ("mobiliario de oficina y sillas ergonómicas", "office furniture and ergonomic chairs"),
            ("habilitación de oficinas y estaciones de trabajo", "office fit-out and workstations"),
        ),
    ),
    "Alimentación y casino": (
        ("Casino", "Alimentación", "Banquetería"),
        (
            ("casinos de alimentación para empresas", "staff canteens for companies"),
            ("colaciones y coffee break", "packed lunches and coffee breaks"),
        ),
    ),
    "Arriendo de maquinaria": (
        ("Arriendos", "Maquinarias", "Equipos"),
        (
            ("arriendo de retroexcavadoras y grúas horquilla", "backhoe and forklift rental"),
            ("arriendo de andamios y generadores", "scaffolding and generator rental"),
        ),
    ),
    "Ferretería y materiales": (
        ("Ferretería", "Materiales", "Comercial"),
        (
            ("venta de materiales de construcción", "building materials sales"),
            ("herramientas y fijaciones", "tools and fasteners"),
        ),
    ),
    "Equipos de protección personal": (
        ("Protección", "Seguridad Industrial", "EPP"),
        (
            (
                "equipos de protección personal certificados",
                "certified personal protective equipment",
            ),
            ("calzado de seguridad y ropa de trabajo", "safety footwear and workwear"),
        ),
    ),
    "Prevención de riesgos": (
        ("Prevención", "Prevencionistas", "Riesgos"),
        (
            ("prevención de riesgos y planes de emergencia", "risk prevention and emergency plans"),
            ("asesoría en seguridad laboral y comités paritarios", "workplace safety committees"),
        ),
    ),
    "Gestión de residuos": (
        ("Reciclaje", "Residuos", "Ambiental"),
        (
            ("retiro de residuos y reciclaje", "waste collection and recycling"),
            ("gestión de residuos peligrosos", "hazardous waste management"),
        ),
    ),
    "Asesoría medioambiental": (
        ("Medioambiente", "Consultora Ambiental", "Ambiente"),
        (
            ("estudios de impacto ambiental", "environmental impact studies"),
            ("huella de carbono y permisos ambientales", "carbon footprint and permits"),
        ),
    ),
    "Energía solar": (
        ("Solar", "Energía", "Energías Renovables"),
        (
            ("instalación de paneles solares", "solar panel installation"),
            ("proyectos fotovoltaicos y net billing", "photovoltaic and net billing projects"),
        ),
    ),
    "Mantención industrial": (
        ("Mantención", "Mantenimiento", "Industrial"),
        (
            ("mantención preventiva de plantas industriales", "preventive plant maintenance"),
            ("reparación de bombas y motores", "pump and motor repair"),
        ),
    ),
    "Metalmecánica": (
        ("Maestranza", "Metalmecánica", "Estructuras"),
        (
            ("estructuras metálicas y soldadura", "steel structures and welding"),
            ("torno, fresado y piezas a medida", "turning, milling and custom parts"),
        ),
    ),
    "Insumos médicos": (
        ("Insumos Médicos", "Médica", "Clínica"),
        (
            ("insumos médicos y dentales", "medical and dental supplies"),
            ("equipamiento clínico y laboratorio", "clinical and laboratory equipment"),
        ),
    ),
    "Auditoría": (
        ("Auditores", "Auditoría", "Revisores"),
        (
            ("auditoría de estados financieros", "financial statement audits"),
            ("auditoría interna y control de riesgos", "internal audit and risk control"),
        ),
    ),
    "Traducción e interpretación": (
        ("Traducciones", "Intérpretes", "Idiomas"),
        (
            ("traducción de documentos técnicos y legales", "technical and legal translation"),
            ("interpretación simultánea para eventos", "simultaneous interpreting for events"),
        ),
    ),
    "Control de plagas": (
        ("Control de Plagas", "Fumigaciones", "Sanitización"),
        (
            ("control de plagas y desratización", "pest and rodent control"),
            ("sanitización y fumigación de recintos", "sanitising and fumigation of premises"),
        ),
    ),
    "Paisajismo y jardinería": (
        ("Jardines", "Paisajismo", "Áreas Verdes"),
        (
            ("mantención de áreas verdes y jardines", "green area and garden upkeep"),
            ("riego automático y paisajismo", "automatic irrigation and landscaping"),
        ),
    ),
    "Courier y mensajería": (
        ("Courier", "Mensajería", "Despachos"),
        (
            ("despacho de documentos y encomiendas", "document and parcel delivery"),
            ("mensajería en moto el mismo día", "same-day motorbike couriers"),
        ),
    ),
    "Corredora de seguros": (
        ("Corredora de Seguros", "Seguros", "Corredores"),
        (
            ("seguros para empresas y flotas", "business and fleet insurance"),
            ("seguros de vida y salud colectivos", "group life and health insurance"),
        ),
    ),
    "Producción de eventos": (
        ("Eventos", "Producciones", "Productora"),
        (
            ("producción de eventos corporativos", "corporate event production"),
            ("arriendo de escenarios, audio e iluminación", "stage, sound and lighting rental"),
        ),
    ),
    "Envases y embalajes": (
        ("Envases", "Embalajes", "Packaging"),
        (
            ("cajas de cartón y embalajes a medida", "cardboard boxes and custom packaging"),
            ("envases plásticos y film stretch", "plastic containers and stretch film"),
        ),
    ),
    "Servicios agrícolas": (
        ("Agrícola", "Agro", "Campo"),
        (
            ("cosecha, poda y manejo de huertos", "harvesting, pruning and orchard management"),
            ("riego tecnificado y asesoría agronómica", "technical irrigation and agronomy advice"),
        ),
    ),
    "Servicios mineros": (
        ("Minera", "Minería", "Faenas"),
        (
            ("apoyo a faenas mineras y movimiento de tierra", "mine site support and earthmoving"),
            ("mantención de equipos mineros", "mining equipment maintenance"),
        ),
    ),
}

_FIRST_NAMES = (
    "Rodrigo",
    "María José",
    "Camila",
    "Felipe",
    "Javiera",
    "Cristián",
    "Francisca",
    "Matías",
    "Valentina",
    "Sebastián",
    "Catalina",
    "Diego",
    "Constanza",
    "Ignacio",
    "Fernanda",
    "Tomás",
    "Carolina",
    "Andrés",
    "Paula",
    "Gonzalo",
    "Daniela",
    "Patricio",
    "Claudia",
    "Jorge",
    "Macarena",
    "Luis",
    "Bárbara",
    "Pablo",
    "Antonia",
    "Héctor",
)
_SURNAMES = (
    "González",
    "Muñoz",
    "Rojas",
    "Díaz",
    "Pérez",
    "Soto",
    "Contreras",
    "Silva",
    "Martínez",
    "Sepúlveda",
    "Morales",
    "Rodríguez",
    "López",
    "Fuentes",
    "Hernández",
    "Torres",
    "Araya",
    "Flores",
    "Espinoza",
    "Valenzuela",
    "Castillo",
    "Tapia",
    "Reyes",
    "Gutiérrez",
    "Castro",
    "Pizarro",
    "Álvarez",
    "Vásquez",
    "Sánchez",
    "Fernández",
    "Ramírez",
    "Carrasco",
    "Gómez",
    "Cortés",
    "Herrera",
    "Núñez",
    "Jara",
    "Vergara",
    "Rivera",
    "Figueroa",
    "Riquelme",
    "Bravo",
    "Vera",
    "Molina",
    "Vega",
    "Campos",
    "Sandoval",
    "Olivares",
    "Orellana",
    "Zúñiga",
    "Ibáñez",
    "Ortiz",
    "Salazar",
    "Garrido",
    "Alarcón",
    "Henríquez",
    "Aguilera",
    "Navarro",
    "Poblete",
    "Mardones",
)
_PLACES = (
    "Andes",
    "Pacífico",
    "del Sur",
    "Austral",
    "Los Aromos",
    "Cordillera",
    "del Norte",
    "Los Robles",
    "Costa Central",
    "Valle Central",
    "Las Araucarias",
    "Los Quillayes",
)
_COINED_HEADS = ("Tecno", "Pro", "Inno", "Nova", "Max", "Andi", "Chile", "Proyecta", "Integra")
_COINED_TAILS = ("tek", "val", "sur", "lab", "net", "plus", "mas", "ser", "ko")
_LEGAL = ("", "", " Ltda.", " SpA", " EIRL", " S.A.", " y Cía. Ltda.")
_STREETS = (
    "Av. Libertador Bernardo O'Higgins",
    "Calle Arturo Prat",
    "Av. Vicuña Mackenna",
    "Calle San Martín",
    "Av. Pedro de Valdivia",
    "Calle Baquedano",
    "Av. Balmaceda",
    "Calle Freire",
    "Av. Manuel Montt",
    "Calle Colón",
    "Av. Los Leones",
    "Pasaje Las Rosas",
    "Calle Los Carrera",
    "Av. Matta",
    "Calle Esmeralda",
    "Av. Irarrázaval",
    "Calle Yungay",
)
# Area codes outside Santiago, for landlines.
_AREA_CODES = (
    "32", "33", "34", "35", "41", "42", "43", "45", "51", "52", "55", "57", "61", "63", "64",
    "65", "71", "72", "73", "75",
)  # fmt: skip
# Company kinds, and how long they have been at it.
_KINDS = (
    ("familiar", "family"), ("regional", "regional"), ("joven", "young"),
    ("consolidada", "established"), ("independiente", "independent"),
)  # fmt: skip
# Specialities drawn with a Zipf skew: mid-frequency words beside the category's own.
_SPECIALITIES = (
    ("atención en todo Chile", "nationwide coverage"),
    ("respuesta en 24 horas", "24-hour response"),
    ("garantía por escrito", "written guarantee"),
    ("presupuestos sin costo", "free quotes"),
    ("facturación electrónica", "electronic invoicing"),
    ("atención a pymes", "support for small businesses"),
    ("contratos de mantención anual", "annual maintenance contracts"),
    ("personal certificado", "certified staff"),
    ("norma ISO 9001", "ISO 9001 standard"),
    ("trabajo en altura", "work at height"),
    ("atención de urgencias los fines de semana", "weekend emergency call-outs"),
    ("proveedores de empresas mineras", "suppliers to mining companies"),
    ("clientes del sector público", "public sector clients"),
    ("licitaciones en Mercado Público", "public tenders on Mercado Público"),
    ("experiencia en retail", "retail experience"),
    ("tecnología de punta", "state-of-the-art technology"),
    ("compromiso con la sustentabilidad", "commitment to sustainability"),
    ("flota propia", "own fleet"),
    ("bodegas propias", "own warehouses"),
    ("asesoría personalizada", "personalised advice"),
)
_RARE = ("Especialistas en termofusión de tuberías HDPE.", "Specialists in HDPE pipe thermofusion.")

# Communes by size of their business directory: the big ones first, then the rest in the
# catalogue's order. Weight 1/rank^0.9: Santiago ~12 %, Providencia ~6 %, Las Condes ~4 %.
_BIG_COMMUNES = (
    "Santiago", "Providencia", "Las Condes", "Ñuñoa", "Concepción", "Viña del Mar", "Maipú",
    "Vitacura", "Antofagasta", "Puente Alto", "Valparaíso", "La Florida", "Temuco", "Quilicura",
    "Puerto Montt", "Rancagua", "Huechuraba", "Pudahuel", "San Bernardo", "Estación Central",
    "La Serena", "Iquique", "Talca", "Calama", "Lo Barnechea", "Recoleta", "Macul", "Chillán",
)  # fmt: skip


def _zipf_order(
    names: Sequence[str], first: Sequence[str], exponent: float
) -> tuple[list[str], list[float]]:
    ordered = [*first, *(name for name in names if name not in set(first))]
    weights = [1 / (rank**exponent) for rank in range(1, len(ordered) + 1)]
    return ordered, list(accumulate(weights))


_COMMUNE_NAMES = [name for name, _ in COMMUNES]
_REGION_OF = dict(COMMUNES)
_COMMUNE_ORDER, _COMMUNE_CUMULATIVE = _zipf_order(_COMMUNE_NAMES, _BIG_COMMUNES, 0.9)
_PRODUCT_NAMES = [product.name_es for product in PRODUCTS]
_PRODUCT_EN = {product.name_es: product.name_en for product in PRODUCTS}
_PRODUCT_ORDER, _PRODUCT_CUMULATIVE = _zipf_order(_PRODUCT_NAMES, (), 0.8)
_SPECIALITY_CUMULATIVE = list(accumulate(1 / rank for rank in range(1, len(_SPECIALITIES) + 1)))


def _holds_common_word(product: str) -> bool:
    return "servicio" in product.lower()


def _common_probability() -> float:
    """Chance of adding the common word to a company whose category does not name it already,
    so that about COMMON_SHARE of all companies hold it."""
    weights = [
        b - a for a, b in zip([0.0, *_PRODUCT_CUMULATIVE], _PRODUCT_CUMULATIVE, strict=False)
    ]
    named = sum(
        w for name, w in zip(_PRODUCT_ORDER, weights, strict=True) if _holds_common_word(name)
    )
    share = named / sum(weights)
    return max(0.0, (COMMON_SHARE - share) / (1 - share))


_COMMON_PROBABILITY = _common_probability()
# An epoch of its own, so the same seed gives the same rows whenever it runs.
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 2 * 365 * 86400


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = [w for w in "".join(c if c.isalnum() else " " for c in ascii_text.lower()).split()]
    return "".join(w for w in words if w not in {"ltda", "spa", "eirl", "s", "a", "y", "cia"})[:30]


def _phone(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        return f"+569{rng.randrange(10_000_000, 100_000_000)}"
    if kind < 0.85:
        return f"+5622{rng.randrange(1_000_000, 10_000_000)}"
    return f"+56{rng.choice(_AREA_CODES)}{rng.randrange(2_000_000, 3_000_000)}"


def _name(rng: random.Random, product: str, commune: str, common: bool) -> str:
    prefixes, _ = _CATEGORY[product]
    # Some companies carry the common word in their name ("Servicios Rojas Ltda.").
    named = common and not _holds_common_word(product) and rng.random() < 0.3
    prefix = "Servicios" if named else rng.choice(prefixes)
    pattern = rng.random()
    if pattern < 0.35:
        base = f"{prefix} {rng.choice(_SURNAMES)}"
    elif pattern < 0.50:
        base = f"{prefix} {rng.choice(_SURNAMES)} y {rng.choice(_SURNAMES)}"
    elif pattern < 0.70:
        base = f"{prefix} {rng.choice((*_PLACES, commune))}"
    elif pattern < 0.85:
        base = f"{rng.choice(_SURNAMES)} {rng.choice(_SURNAMES)}"
    else:
        base = f"{rng.choice(_COINED_HEADS)}{rng.choice(_COINED_TAILS)} {prefix}"
    return base + rng.choice(_LEGAL)


def _descriptions(rng: random.Random, product: str, commune: str, common: bool) -> tuple[str, str]:
    _, phrases = _CATEGORY[product]
    what_es, what_en = rng.choice(phrases)
    kind_es, kind_en = rng.choice(_KINDS)
    years = rng.randrange(2, 41)
    region = _REGION_OF[commune]
    opening = rng.randrange(3)
    if opening == 0:
        es = [f"Empresa {kind_es} con {years} años de experiencia en {what_es}."]
        en = [f"A {kind_en} company with {years} years of experience in {what_en}."]
    elif opening == 1:
        es = [f"Somos especialistas en {what_es} para empresas e instituciones."]
        en = [f"We specialise in {what_en} for businesses and institutions."]
    else:
        es = [f"Ofrecemos {what_es} con personal propio."]
        en = [f"We provide {what_en} with our own staff."]
    es.append(f"Atendemos clientes en {commune} y en la región de {region}.")
    en.append(f"We serve clients in {commune} and the {region} region.")
    picked = sorted({_pick(rng, _SPECIALITY_CUMULATIVE) for _ in range(rng.randrange(1, 3))})
    es.append(f"Destacamos por {' y '.join(_SPECIALITIES[i][0] for i in picked)}.")
    en.append(f"Known for {' and '.join(_SPECIALITIES[i][1] for i in picked)}.")
    if common:
        es.append(f"Prestamos {COMMON_WORD} a pymes y grandes empresas.")
        en.append(f"We offer our {COMMON_WORD_EN} to small and large companies.")
    if rng.random() < RARE_SHARE:
        es.append(_RARE[0])
        en.append(_RARE[1])
    return " ".join(es), " ".join(en)


def _pick(rng: random.Random, cumulative: Sequence[float]) -> int:
    target = rng.random() * cumulative[-1]
    low, high = 0, len(cumulative) - 1
    while low < high:
        middle = (low + high) // 2
        if cumulative[middle] < target:
            low = middle + 1
        else:
            high = middle
    return low


# Company RUTs: 60.000.001-x onwards, one per index (unique whatever the seed), below the demo
# companies' (76.045.613 and up) for up to 16 million companies: a synthetic directory seeded
# beside the demo data never takes a RUT a live demo company holds (at 76.000.000, the index
# 45,613 did, and any seed of 45,613 companies or more failed).
RUT_BASE = 60_000_000
SIZE_BANDS = ("1-9", "10-49", "50-199", "200+")
_SIZE_CUMULATIVE = list(accumulate((0.55, 0.30, 0.11, 0.04)))
_THIS_YEAR = 2026


def rut_check_digit(number: int) -> str:
    """Módulo 11 (the companies schema's rule, repeated here to keep this module light)."""
    total, factor = 0, 2
    while number:
        total += (number % 10) * factor
        number //= 10
        factor = 2 if factor == 7 else factor + 1
    digit = 11 - total % 11
    return {11: "0", 10: "K"}.get(digit, str(digit))


def synthetic_rut(index: int) -> str:
    number = RUT_BASE + index
    return f"{number}-{rut_check_digit(number)}"


def _profile(
    rng: random.Random, index: int, commune: str, product: str, name: str
) -> dict[str, object]:
    """Website, RUT, year, size, regions served and extra categories, drawn after every other
    field (so those stay what they were for a given seed)."""
    own = _REGION_OF[commune]
    kind = rng.random()
    if kind < 0.08:
        served: tuple[str, ...] = REGIONS
    elif kind < 0.30:
        # Neighbouring regions, north and south of the own one.
        at = REGIONS.index(own)
        reach = rng.randrange(1, 3)
        served = tuple(
            REGIONS[i]
            for i in range(max(0, at - reach), min(len(REGIONS), at + reach + 1))
            if i != at
        )
    else:
        served = ()
    extras: tuple[str, ...] = ()
    picked = rng.random()
    if picked < 0.30:
        wanted = 1 if picked < 0.20 else 2
        pool = [p for p in _PRODUCT_NAMES if p != product]
        extras = tuple(rng.sample(pool, wanted))
    return {
        "website": f"https://www.{_slug(name) or 'empresa'}.cl" if rng.random() < 0.35 else None,
        "rut": synthetic_rut(index) if rng.random() < 0.9 else None,
        "year_founded": _THIS_YEAR - min(int(rng.expovariate(1 / 14)), _THIS_YEAR - 1900)
        if rng.random() < 0.8
        else None,
        "size_band": SIZE_BANDS[_pick(rng, _SIZE_CUMULATIVE)] if rng.random() < 0.85 else None,
        "served_regions": served,
        "extra_products": extras,
    }


def synthetic_company(seed: int, index: int) -> SyntheticCompany:
    """Company number `index` (from 1) of the data set `seed`."""
    rng = random.Random(seed * 10_000_019 + index)  # noqa: S311 - reproducible, not secret
    # The first companies cover every commune and product once; the rest follow the skew.
    if index <= len(_COMMUNE_NAMES):
        commune = _COMMUNE_NAMES[index - 1]
    else:
        commune = _COMMUNE_ORDER[_pick(rng, _COMMUNE_CUMULATIVE)]
    if index <= len(_PRODUCT_NAMES):
        product = _PRODUCT_NAMES[index - 1]
    else:
        product = _PRODUCT_ORDER[_pick(rng, _PRODUCT_CUMULATIVE)]
    common = _holds_common_word(product) or rng.random() < _COMMON_PROBABILITY
    name = _name(rng, product, commune, common)
    text_es, text_en = _descriptions(rng, product, commune, common)
    original = "es" if rng.random() < 0.85 else "en"
    other = rng.random()
    other_source = "human" if other < 0.6 else "machine" if other < 0.92 else "pending"
    es_source = "original" if original == "es" else other_source
    en_source = "original" if original == "en" else other_source
    owner_name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)} {rng.choice(_SURNAMES)}"
    created = _EPOCH + timedelta(seconds=rng.randrange(_SPAN_SECONDS))
    return SyntheticCompany(
        index=index,
        owner_uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
        owner_name=owner_name,
        owner_email=synthetic_email(index),
        owner_lang=original,
        uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
        name=name,
        product=product,
        commune=commune,
        description_es=None if es_source == "pending" else text_es,
        description_en=None if en_source == "pending" else text_en,
        original_lang=original,
        es_source=es_source,
        en_source=en_source,
        address=f"{rng.choice(_STREETS)} {rng.randrange(10, 9000)}, {commune}",
        phone=_phone(rng),
        email=f"{rng.choice(('contacto', 'ventas', 'info', 'hola'))}@{_slug(name) or 'empresa'}.cl",
        created_at=created,
        **_profile(rng, index, commune, product, name),  # type: ignore[arg-type]
    )


def synthetic_companies(seed: int, first: int, last: int) -> Iterator[SyntheticCompany]:
    """Companies `first` to `last` (inclusive) of the data set `seed`."""
    for index in range(first, last + 1):
        yield synthetic_company(seed, index)


@dataclass(frozen=True)
class SyntheticSeedResult:
    added: int
    total: int
    seconds: float


# A seed adding at least this many companies, and more than are there, drops the search table's
# GIN indexes and builds them again at the end, and indexes its companies for search at the end,
# all at once and on every core: searches wait for the seed meanwhile.
REBUILD_INDEXES_FROM = 50_000


def _batch(seed: int, first: int, last: int) -> list[SyntheticCompany]:
    return list(synthetic_companies(seed, first, last))


async def seed_synthetic(
    conn: Connection,
    count: int,
    *,
    seed: int,
    password_hash: str,
    rebuild_indexes_from: int = REBUILD_INDEXES_FROM,
) -> SyntheticSeedResult:
    """Make synthetic companies 1..count exist: the ones already there are kept.

    COPY into the tables in batches (no per-row round trip); the database's own checks and
    triggers still run on every row, except the search index's insert triggers: each batch is
    indexed once, after its companies and their extra categories, or, in a large seed, all
    batches at once at the end (a rollback restores the triggers). The next batch is generated
    in a thread while the database takes the current one. Never commits.
    """
    started = time.monotonic()
    present = await repository.select_last_synthetic_index(conn)
    added = 0
    await repository.create_synthetic_stage(conn)
    adding = count - present
    rebuilt = (
        await repository.drop_search_secondary_indexes(conn)
        if adding >= rebuild_indexes_from and adding > present
        else []
    )
    firsts = list(range(present + 1, count + 1, BATCH_SIZE))

    def generate(first: int) -> asyncio.Task[list[SyntheticCompany]]:
        last = min(count, first + BATCH_SIZE - 1)
        return asyncio.create_task(asyncio.to_thread(_batch, seed, first, last))

    upcoming = generate(firsts[0]) if firsts else None
    first_id, last_id = sys.maxsize, 0
    await repository.suspend_search_insert_triggers(conn)
    try:
        for n in range(len(firsts)):
            assert upcoming is not None
            batch = await upcoming
            upcoming = generate(firsts[n + 1]) if n + 1 < len(firsts) else None
            await repository.copy_synthetic_owners(conn, batch, password_hash)
            ids = await repository.insert_synthetic_companies(conn, batch)
            if rebuilt:
                first_id = min(first_id, *ids)
                last_id = max(last_id, *ids)
            else:
                await repository.refresh_company_search(conn, ids)
            added += len(ids)
    finally:
        if upcoming is not None:
            upcoming.cancel()
    await repository.resume_search_insert_triggers(conn)
    if rebuilt:
        if added:
            # Planned for the tables as they are now, not as they were before the seed.
            await repository.analyze_directory(conn)
            await repository.index_companies_in_parallel(
                conn, first_id, last_id, workers=max(1, (os.cpu_count() or 2) - 1)
            )
        await repository.create_indexes(conn, rebuilt)
    if added:
        await repository.analyze_directory(conn)
    return SyntheticSeedResult(
        added=added, total=max(present, count), seconds=time.monotonic() - started
    )
