"""Demo companies used to seed the marketplace with realistic Chilean providers.

All data is fictitious: names, addresses, phone numbers and e-mail domains are invented
for demonstration purposes only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from proveo.catalog.data import (
    REGION_ARAUCANIA,
    REGION_ATACAMA,
    REGION_BIOBIO,
    REGION_COQUIMBO,
    REGION_LOS_RIOS,
    REGION_MAULE,
    REGION_METROPOLITANA,
    REGION_NUBLE,
    REGION_OHIGGINS,
    REGION_TARAPACA,
    REGION_VALPARAISO,
    REGIONS,
)
from proveo.companies.schemas import rut_check_digit

__all__ = ["DEMO_COMPANIES", "DemoCompany"]


@dataclass(frozen=True)
class DemoCompany:
    """A fictitious provider company shown in demo mode."""

    owner_name: str
    name: str
    description_es: str
    description_en: str
    product_es: str
    commune: str
    address: str
    phone: str
    email: str
    website: str | None = None
    rut: str | None = None  # normalised: 76123456-0
    year_founded: int | None = None
    size_band: str | None = None
    served_regions: tuple[str, ...] = ()  # besides the commune's own; REGIONS: all of Chile
    extra_products: tuple[str, ...] = ()  # name_es of up to two more categories


_DEMO_COMPANIES: tuple[DemoCompany, ...] = (
    DemoCompany(
        owner_name="Rodrigo Fuentes Valenzuela",
        name="Constructora Los Aromos",
        description_es=(
            "Empresa familiar con más de 15 años ejecutando obras menores, ampliaciones y "
            "remodelaciones de oficinas y locales comerciales. Trabajamos con maestros propios "
            "y entregamos presupuestos detallados sin costo."
        ),
        description_en=(
            "Family business with more than 15 years carrying out minor works, extensions and "
            "refurbishments of offices and commercial premises. We work with our own "
            "tradespeople and provide detailed quotes free of charge."
        ),
        product_es="Construcción",
        commune="Maipú",
        address="Av. Pajaritos 2140, Maipú",
        phone="+56982314576",
        email="contacto@constructoralosaromos.cl",
    ),
    DemoCompany(
        owner_name="María José Contreras Soto",
        name="Contadores Ñuñoa Asociados",
        description_es=(
            "Llevamos la contabilidad mensual, remuneraciones y declaraciones de impuestos de "
            "pymes y emprendedores. Te acompañamos en la relación con el SII para que te "
            "enfoques en tu negocio."
        ),
        description_en=(
            "We handle monthly bookkeeping, payroll and tax returns for small businesses and "
            "entrepreneurs. We support you in dealing with the SII (Chilean tax authority) so "
            "you can focus on your business."
        ),
        product_es="Servicios contables",
        commune="Ñuñoa",
        address="Av. Irarrázaval 3455, oficina 402, Ñuñoa",
        phone="+56222748190",
        email="contabilidad@contadoresnunoa.cl",
    ),
    DemoCompany(
        owner_name="Felipe Andrés Muñoz Rojas",
        name="Cóndor Software SpA",
        description_es=(
            "Desarrollamos aplicaciones web y móviles a medida para empresas medianas, desde el "
            "diseño hasta la puesta en producción. También integramos sistemas de facturación "
            "electrónica y ERP."
        ),
        description_en=(
            "We build custom web and mobile applications for medium-sized companies, from "
            "design through to production. We also integrate electronic invoicing and ERP "
            "systems."
        ),
        product_es="Desarrollo de software",
        commune="Providencia",
        address="Av. Providencia 1208, oficina 1105, Providencia",
        phone="+56229461337",
        email="hola@condorsoftware.cl",
    ),
    DemoCompany(
        owner_name="Patricio Herrera Álvarez",
        name="Transportes Biobío Express",
        description_es=(
            "Realizamos transporte de carga general y distribución de última milla entre "
            "Concepción, Talcahuano y Los Ángeles. Contamos con camiones de 3/4 y rampla, "
            "con seguimiento GPS en todos los despachos."
        ),
        description_en=(
            "We provide general freight transport and last-mile distribution between "
            "Concepción, Talcahuano and Los Ángeles. We have light trucks and semi-trailers, "
            "with GPS tracking on every shipment."
        ),
        product_es="Transporte y logística",
        commune="Concepción",
        address="Av. Paicaví 1875, Concepción",
        phone="+56412238456",
        email="despachos@biobioexpress.cl",
    ),
    DemoCompany(
        owner_name="Carolina Espinoza Tapia",
        name="Limpiezas Del Pacífico",
        description_es=(
            "Servicio de limpieza industrial para bodegas, plantas productivas y oficinas en la "
            "región de Valparaíso. Usamos productos biodegradables y personal capacitado en "
            "prevención de riesgos."
        ),
        description_en=(
            "Industrial cleaning services for warehouses, production plants and offices in the "
            "Valparaíso region. We use biodegradable products and staff trained in "
            "occupational safety."
        ),
        product_es="Limpieza industrial",
        commune="Valparaíso",
        address="Av. Brasil 1560, Valparaíso",
        phone="+56322594718",
        email="servicios@limpiezasdelpacifico.cl",
    ),
    DemoCompany(
        owner_name="Luis Alberto Sepúlveda Carrasco",
        name="Guardianes del Norte Seguridad",
        description_es=(
            "Proveemos guardias de seguridad acreditados por OS-10 para faenas, condominios y "
            "centros comerciales. Ofrecemos además monitoreo de cámaras las 24 horas."
        ),
        description_en=(
            "We provide OS-10 accredited security guards for mining sites, residential "
            "complexes and shopping centres. We also offer 24-hour camera monitoring."
        ),
        product_es="Seguridad privada",
        commune="Antofagasta",
        address="Av. Angamos 0436, Antofagasta",
        phone="+56552267390",
        email="operaciones@guardianesdelnorte.cl",
    ),
    DemoCompany(
        owner_name="Francisca Ibáñez Morales",
        name="Ibáñez & Lagos Abogados",
        description_es=(
            "Estudio jurídico especializado en derecho laboral, comercial y constitución de "
            "sociedades. Asesoramos a pymes con tarifas planas mensuales y atención cercana."
        ),
        description_en=(
            "Law firm specialising in employment law, commercial law and company formation. "
            "We advise small and medium-sized businesses with flat monthly fees and a personal "
            "approach."
        ),
        product_es="Asesoría legal",
        commune="Las Condes",
        address="Av. Apoquindo 4499, piso 8, Las Condes",
        phone="+56223781544",
        email="contacto@ibanezlagos.cl",
    ),
    DemoCompany(
        owner_name="Sebastián Vergara Núñez",
        name="Pudú Digital",
        description_es=(
            "Agencia de marketing digital que gestiona redes sociales, campañas en Google y "
            "Meta, y posicionamiento SEO. Medimos cada peso invertido con reportes mensuales "
            "claros."
        ),
        description_en=(
            "Digital marketing agency managing social media, Google and Meta campaigns, and "
            "SEO. We measure every peso invested with clear monthly reports."
        ),
        product_es="Marketing digital",
        commune="Viña del Mar",
        address="Calle Quillota 830, oficina 52, Viña del Mar",
        phone="+56976543218",
        email="equipo@pududigital.cl",
    ),
    DemoCompany(
        owner_name="Jorge Castillo Pizarro",
        name="Clima Sur Ingeniería",
        description_es=(
            "Instalación y mantención de equipos de aire acondicionado, calefacción y "
            "ventilación para oficinas y locales comerciales. Somos técnicos certificados y "
            "damos garantía en todos nuestros trabajos."
        ),
        description_en=(
            "Installation and maintenance of air-conditioning, heating and ventilation "
            "equipment for offices and commercial premises. We are certified technicians and "
            "guarantee all our work."
        ),
        product_es="Climatización",
        commune="Temuco",
        address="Av. Alemania 0671, Temuco",
        phone="+56452215873",
        email="ventas@climasur.cl",
    ),
    DemoCompany(
        owner_name="Claudio Araya Gallardo",
        name="Electricidad Araya e Hijos",
        description_es=(
            "Instaladores eléctricos autorizados por la SEC con experiencia en mantención "
            "preventiva de tableros, empalmes y redes de baja tensión. Atendemos emergencias "
            "en Rancagua y alrededores."
        ),
        description_en=(
            "Electricians licensed by the SEC (Chilean fuel and electricity regulator) with "
            "experience in preventive maintenance of switchboards, service connections and "
            "low-voltage networks. We attend emergencies in Rancagua and the surrounding area."
        ),
        product_es="Mantención eléctrica",
        commune="Rancagua",
        address="Av. Brasil 1045, Rancagua",
        phone="+56987120345",
        email="contacto@electricidadaraya.cl",
    ),
    DemoCompany(
        owner_name="Verónica Lagos Figueroa",
        name="Imprenta La Portada",
        description_es=(
            "Imprimimos tarjetas de presentación, folletos, pendones y material corporativo "
            "con entrega en 48 horas. Contamos con impresión offset y digital de alta calidad."
        ),
        description_en=(
            "We print business cards, flyers, banners and corporate materials with 48-hour "
            "delivery. We offer high-quality offset and digital printing."
        ),
        product_es="Imprenta y publicidad",
        commune="Antofagasta",
        address="Calle Sucre 765, Antofagasta",
        phone="+56992468135",
        email="pedidos@imprentalaportada.cl",
    ),
    DemoCompany(
        owner_name="Andrea Soto Cáceres",
        name="Sabores de Elqui Banquetería",
        description_es=(
            "Banquetería y catering para eventos corporativos, seminarios y colaciones diarias "
            "en empresas. Trabajamos con productos locales del valle de Elqui y menús "
            "adaptados a cada cliente."
        ),
        description_en=(
            "Banqueting and catering for corporate events, seminars and daily staff meals at "
            "companies. We work with local produce from the Elqui Valley and menus tailored "
            "to each client."
        ),
        product_es="Alimentación y casino",
        commune="La Serena",
        address="Av. Francisco de Aguirre 340, La Serena",
        phone="+56951237864",
        email="eventos@saboresdeelqui.cl",
    ),
    DemoCompany(
        owner_name="Daniela Riquelme Navarro",
        name="Talento Austral Consultores",
        description_es=(
            "Consultora de recursos humanos dedicada al reclutamiento y selección de personal "
            "técnico y profesional en el sur de Chile. También apoyamos en evaluaciones de "
            "desempeño y clima laboral."
        ),
        description_en=(
            "Human resources consultancy dedicated to recruiting and selecting technical and "
            "professional staff in southern Chile. We also help with performance reviews and "
            "workplace climate assessments."
        ),
        product_es="Recursos humanos",
        commune="Puerto Montt",
        address="Calle Benavente 550, oficina 31, Puerto Montt",
        phone="+56652483927",
        email="seleccion@talentoaustral.cl",
    ),
    DemoCompany(
        owner_name="Tomás Ignacio Bravo Peña",
        name="Estudio Bravo Arquitectos",
        description_es=(
            "Oficina de arquitectura que diseña espacios comerciales, oficinas y viviendas con "
            "foco en eficiencia energética. Acompañamos todo el proceso, desde el anteproyecto "
            "hasta la recepción municipal."
        ),
        description_en=(
            "Architecture practice designing commercial spaces, offices and homes with a focus "
            "on energy efficiency. We guide the whole process, from preliminary design to "
            "final municipal approval."
        ),
        product_es="Arquitectura",
        commune="Santiago",
        address="Calle Merced 480, oficina 603, Santiago",
        phone="+56226391028",
        email="estudio@bravoarquitectos.cl",
    ),
    DemoCompany(
        owner_name="Ricardo Mella Orellana",
        name="Capacita Maule OTEC",
        description_es=(
            "Organismo técnico de capacitación acreditado por SENCE que imparte cursos de "
            "liderazgo, Excel, prevención de riesgos y atención al cliente. Los cursos pueden "
            "financiarse con la franquicia tributaria."
        ),
        description_en=(
            "SENCE-accredited training provider offering courses in leadership, Excel, "
            "occupational safety and customer service. Courses can be funded through the "
            "training tax credit."
        ),
        product_es="Capacitación empresarial",
        commune="Talca",
        address="1 Sur 1150, Talca",
        phone="+56712236591",
        email="cursos@capacitamaule.cl",
    ),
    DemoCompany(
        owner_name="Valentina Carrasco Ñancupil",
        name="Ñire Consultoría Ambiental",
        description_es=(
            "Elaboramos declaraciones de impacto ambiental, planes de manejo de residuos y "
            "monitoreos de calidad de agua. Ayudamos a las empresas a cumplir la normativa y "
            "a avanzar en sostenibilidad."
        ),
        description_en=(
            "We prepare environmental impact statements, waste management plans and water "
            "quality monitoring. We help companies comply with regulations and make progress "
            "on sustainability."
        ),
        product_es="Asesoría medioambiental",
        commune="Puerto Montt",
        address="Av. Diego Portales 860, Puerto Montt",
        phone="+56944871520",
        email="proyectos@nireambiental.cl",
    ),
)


def _rut(number: int) -> str:
    return f"{number}-{rut_check_digit(number)}"


# The richer profile of each: website, RUT (valid check digits, all distinct), year founded,
# size band, regions served besides its own, and categories besides the primary one.
_PROFILES: dict[str, dict[str, object]] = {
    "Constructora Los Aromos": dict(
        website="https://www.constructoralosaromos.cl",
        rut=_rut(76_412_385),
        year_founded=2009,
        size_band="10-49",
        served_regions=(REGION_VALPARAISO, REGION_OHIGGINS),
        extra_products=("Arquitectura", "Gasfitería"),
    ),
    "Contadores Ñuñoa Asociados": dict(
        rut=_rut(76_118_940),
        year_founded=2014,
        size_band="1-9",
        extra_products=("Auditoría",),
    ),
    "Cóndor Software SpA": dict(
        website="https://condorsoftware.cl",
        rut=_rut(77_024_561),
        year_founded=2018,
        size_band="10-49",
        served_regions=REGIONS,
        extra_products=("Servicios en la nube", "Soporte informático"),
    ),
    "Transportes Biobío Express": dict(
        website="https://www.biobioexpress.cl",
        rut=_rut(96_873_210),
        year_founded=1997,
        size_band="50-199",
        served_regions=(REGION_NUBLE, REGION_MAULE, REGION_ARAUCANIA, REGION_METROPOLITANA),
    ),
    "Limpiezas Del Pacífico": dict(
        rut=_rut(76_905_332),
        year_founded=2011,
        size_band="50-199",
        served_regions=(REGION_METROPOLITANA,),
        extra_products=("Control de plagas",),
    ),
    "Guardianes del Norte Seguridad": dict(
        rut=_rut(76_330_078),
        year_founded=2005,
        size_band="200+",
        served_regions=(REGION_TARAPACA, REGION_ATACAMA),
    ),
    "Ibáñez & Lagos Abogados": dict(
        website="https://www.ibanezlagos.cl",
        rut=_rut(76_552_019),
        year_founded=2001,
        size_band="10-49",
        served_regions=REGIONS,
    ),
    "Pudú Digital": dict(
        website="https://pududigital.cl",
        rut=_rut(77_310_884),
        year_founded=2020,
        size_band="1-9",
        extra_products=("Diseño gráfico",),
    ),
    "Clima Sur Ingeniería": dict(
        rut=_rut(76_781_245),
        year_founded=2012,
        size_band="10-49",
        served_regions=(REGION_LOS_RIOS, REGION_BIOBIO),
        extra_products=("Mantención eléctrica",),
    ),
    "Electricidad Araya e Hijos": dict(
        rut=_rut(76_045_613),
        year_founded=1988,
        size_band="1-9",
    ),
    "Imprenta La Portada": dict(
        website="https://www.imprentalaportada.cl",
        rut=_rut(78_219_406),
        year_founded=1994,
        size_band="10-49",
        extra_products=("Diseño gráfico",),
    ),
    "Sabores de Elqui Banquetería": dict(
        rut=_rut(76_667_154),
        year_founded=2016,
        size_band="10-49",
        served_regions=(REGION_ATACAMA,),
    ),
    "Talento Austral Consultores": dict(
        website="https://talentoaustral.cl",
        rut=_rut(76_990_437),
        year_founded=2015,
        size_band="1-9",
        served_regions=(REGION_LOS_RIOS,),
        extra_products=("Reclutamiento y selección", "Capacitación empresarial"),
    ),
    "Estudio Bravo Arquitectos": dict(
        website="https://www.estudiobravo.cl",
        rut=_rut(76_201_798),
        year_founded=2008,
        size_band="1-9",
        served_regions=(REGION_VALPARAISO, REGION_COQUIMBO),
    ),
    "Capacita Maule OTEC": dict(
        rut=_rut(76_483_522),
        year_founded=2013,
        size_band="10-49",
        served_regions=(REGION_NUBLE, REGION_OHIGGINS),
    ),
    "Ñire Consultoría Ambiental": dict(
        website="https://nireambiental.cl",
        rut=_rut(77_125_309),
        year_founded=2019,
        size_band="1-9",
        served_regions=REGIONS,
        extra_products=("Gestión de residuos",),
    ),
}

DEMO_COMPANIES: tuple[DemoCompany, ...] = tuple(
    dataclasses.replace(company, **_PROFILES.get(company.name, {}))  # type: ignore[arg-type]
    for company in _DEMO_COMPANIES
)
