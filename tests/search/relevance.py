"""The labelled relevance set: realistic companies and the queries that must find each of them
in the top 3 (typos, accents, prefixes, plurals, both languages, filters)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Company:
    name: str
    product: str  # Spanish name
    commune: str
    es: str | None
    en: str | None


@dataclass(frozen=True)
class Query:
    q: str
    expected: str
    commune: str | None = None
    product: str | None = None


COMPANIES: tuple[Company, ...] = (
    Company("Constructora Los Andes", "Construcción", "Las Condes",
            "Construcción de casas y edificios, remodelaciones y ampliaciones.",
            "Building houses and offices, remodeling and extensions."),
    Company("Gasfitería Rápida Ñuñoa", "Gasfitería", "Ñuñoa",
            "Reparación de cañerías, calefont y filtraciones las 24 horas.", None),
    Company("Contadores Asociados Pérez", "Servicios contables", "Providencia",
            "Contabilidad para pymes, declaración de impuestos y remuneraciones.",
            "Bookkeeping for small businesses, tax returns and payroll."),
    Company("Softlab Chile", "Desarrollo de software", "Santiago",
            "Desarrollo de aplicaciones web y móviles a medida.",
            "Custom web and mobile applications."),
    Company("Transportes Cordillera", "Transporte y logística", "Quilicura",
            "Transporte de carga y distribución a todo Chile, bodegaje.",
            "Freight transport and nationwide distribution, warehousing."),
    Company("Limpiezas Industriales del Sur", "Limpieza industrial", "Concepción",
            "Limpieza de plantas industriales, estanques y bodegas.", None),
    Company("Guardias Alerta", "Seguridad privada", "Maipú",
            "Guardias de seguridad, monitoreo de alarmas y cámaras.",
            "Security guards, alarm and CCTV monitoring."),
    Company("Abogados Fuenzalida y Cía", "Asesoría legal", "Santiago",
            "Asesoría legal laboral, contratos y juicios.",
            "Employment law, contracts and litigation."),
    Company("Pixel Marketing", "Marketing digital", "Providencia",
            "Campañas en redes sociales, SEO y publicidad en Google.",
            "Social media campaigns, SEO and Google ads."),
    Company("Electro Mantención Valparaíso", "Mantención eléctrica", "Valparaíso",
            "Instalaciones eléctricas, tableros y certificación SEC.", None),
    Company("Frío Clima Spa", "Climatización", "Vitacura",
            "Instalación y mantención de aire acondicionado y calefacción.",
            "Air conditioning and heating installation and maintenance."),
    Company("Arquitectura Bordemar", "Arquitectura", "Viña del Mar",
            "Diseño arquitectónico de viviendas y oficinas.", None),
    Company("Consultora Rumbo", "Consultoría en gestión", "Las Condes",
            None, "Strategy and process improvement consulting for companies."),
    Company("Talento Humano Ltda", "Recursos humanos", "Santiago",
            "Selección de personal, evaluación psicolaboral y outsourcing.", None),
    Company("Capacita Más", "Capacitación empresarial", "Temuco",
            "Cursos de capacitación Sence para empresas, excel y liderazgo.",
            "Corporate training courses, Excel and leadership."),
    Company("Nube Segura", "Ciberseguridad", "Santiago",
            "Auditorías de ciberseguridad, pentesting y respaldo en la nube.",
            "Cybersecurity audits, penetration testing and cloud backup."),
    Company("Imprenta Color Express", "Imprenta y publicidad", "Independencia",
            "Impresión de folletos, pendones y tarjetas de presentación.",
            "Printing of flyers, banners and business cards."),
    Company("Oficina Total", "Artículos de oficina", "Ñuñoa",
            "Venta de papelería, tóner y artículos de escritorio.", None),
    Company("Casino Sabores del Valle", "Alimentación y casino", "Rancagua",
            "Servicio de alimentación para empresas y casinos industriales.",
            "Food service for companies and industrial canteens."),
    Company("Maquinarias Arriendo Norte", "Arriendo de maquinaria", "Antofagasta",
            "Arriendo de retroexcavadoras, grúas horquilla y generadores.",
            "Rental of backhoes, forklifts and generators."),
    Company("Ferretería El Martillo", "Ferretería y materiales", "Puente Alto",
            "Materiales de construcción, herramientas y pinturas.", None),
    Company("Protege EPP", "Equipos de protección personal", "Calama",
            "Cascos, guantes, zapatos de seguridad y ropa de trabajo.",
            "Helmets, gloves, safety shoes and workwear."),
    Company("Reciclajes Verdes", "Gestión de residuos", "Pudahuel",
            "Retiro de residuos y reciclaje de cartón, plástico y vidrio.",
            "Waste collection and recycling of cardboard, plastic and glass."),
    Company("Solar Andino", "Energía solar", "La Serena",
            "Paneles solares fotovoltaicos para hogares y empresas.",
            "Photovoltaic solar panels for homes and businesses."),
    Company("Metalúrgica Acero Sur", "Metalmecánica", "Talcahuano",
            "Estructuras metálicas, soldadura y tornería.", None),
    Company("Traducciones Babel", "Traducción e interpretación", "Providencia",
            "Traducción jurada e interpretación simultánea inglés español.",
            "Certified translation and simultaneous interpreting."),
    Company("Plagas Control Total", "Control de plagas", "La Florida",
            "Desratización, fumigación y control de termitas.", None),
    Company("Jardines del Edén", "Paisajismo y jardinería", "Lo Barnechea",
            "Diseño y mantención de jardines, riego automático.",
            "Garden design and maintenance, automatic irrigation."),
    Company("Mensajería Veloz", "Courier y mensajería", "Santiago",
            "Despacho de documentos y paquetes en moto el mismo día.",
            "Same-day motorbike delivery of documents and parcels."),
    Company("Eventos Gala", "Producción de eventos", "Viña del Mar",
            "Producción de eventos corporativos, matrimonios y lanzamientos.", None),
    Company("Agrícola Los Olivos", "Servicios agrícolas", "Curicó",
            "Cosecha, poda y manejo de huertos frutales.",
            "Harvesting, pruning and orchard management."),
    Company("Minera Servicios Atacama", "Servicios mineros", "Copiapó",
            "Perforación, sondajes y mantención de equipos mineros.", None),
)  # fmt: skip

QUERIES: tuple[Query, ...] = (
    # Names: exact, partial, prefix.
    Query("Constructora Los Andes", "Constructora Los Andes"),
    Query("constructora", "Constructora Los Andes"),
    Query("softlab", "Softlab Chile"),
    Query("soft", "Softlab Chile"),
    Query("Pixel", "Pixel Marketing"),
    Query("gasfiteria rapida", "Gasfitería Rápida Ñuñoa"),
    Query("imprenta color", "Imprenta Color Express"),
    Query("nube segura", "Nube Segura"),
    Query("talento humano", "Talento Humano Ltda"),
    Query("babel", "Traducciones Babel"),
    # Accents and case.
    Query("ñuñoa gasfiter", "Gasfitería Rápida Ñuñoa"),
    Query("Nunoa gasfiteria", "Gasfitería Rápida Ñuñoa"),
    Query("climatizacion", "Frío Clima Spa"),
    Query("CLIMATIZACIÓN", "Frío Clima Spa"),
    Query("metalurgica", "Metalúrgica Acero Sur"),
    Query("energia solar", "Solar Andino"),
    # Spanish stems and plurals.
    Query("paneles solares", "Solar Andino"),
    Query("reparaciones de cañerías", "Gasfitería Rápida Ñuñoa"),
    Query("guardia", "Guardias Alerta"),
    Query("cursos excel", "Capacita Más"),
    Query("impuestos", "Contadores Asociados Pérez"),
    Query("fumigaciones", "Plagas Control Total"),
    Query("retroexcavadora", "Maquinarias Arriendo Norte"),
    Query("cascos y guantes", "Protege EPP"),
    Query("abogado", "Abogados Fuenzalida y Cía"),
    Query("contratos laborales", "Abogados Fuenzalida y Cía"),
    Query("huertos frutales", "Agrícola Los Olivos"),
    Query("sondajes", "Minera Servicios Atacama"),
    Query("matrimonio", "Eventos Gala"),
    # English stems.
    Query("plumbing", "Gasfitería Rápida Ñuñoa"),
    Query("security guards", "Guardias Alerta"),
    Query("forklift", "Maquinarias Arriendo Norte"),
    Query("solar panels", "Solar Andino"),
    Query("tax return", "Contadores Asociados Pérez"),
    Query("garden maintenance", "Jardines del Edén"),
    Query("recycling", "Reciclajes Verdes"),
    Query("warehousing", "Transportes Cordillera"),
    # Across languages: English queries for Spanish-only profiles and the reverse.
    Query("cleaning", "Limpiezas Industriales del Sur"),
    Query("accounting", "Contadores Asociados Pérez"),
    Query("electrical maintenance valparaiso", "Electro Mantención Valparaíso"),
    Query("pest control", "Plagas Control Total"),
    Query("human resources", "Talento Humano Ltda"),
    Query("consultoria en gestion las condes", "Consultora Rumbo"),
    Query("architecture", "Arquitectura Bordemar"),
    Query("event production", "Eventos Gala"),
    Query("hardware puente alto", "Ferretería El Martillo"),
    Query("mining services", "Minera Servicios Atacama"),
    # Typos.
    Query("constructra", "Constructora Los Andes"),
    Query("gasfiteira", "Gasfitería Rápida Ñuñoa"),
    Query("climatisacion", "Frío Clima Spa"),
    Query("ciberseguridd", "Nube Segura"),
    Query("fumigacion termitass", "Plagas Control Total"),
    Query("paisagismo", "Jardines del Edén"),
    Query("traducion", "Traducciones Babel"),
    Query("providensia contadores", "Contadores Asociados Pérez"),
    Query("reciclage", "Reciclajes Verdes"),
    Query("softlap", "Softlab Chile"),
    # Prefixes (search as you type).
    Query("limpie", "Limpiezas Industriales del Sur"),
    Query("arquitec", "Arquitectura Bordemar"),
    Query("retroex", "Maquinarias Arriendo Norte"),
    Query("mensaj", "Mensajería Veloz"),
    Query("agricol", "Agrícola Los Olivos"),
    # Filters, by name in either language.
    Query("seguridad", "Guardias Alerta", commune="Maipú"),
    Query("", "Solar Andino", product="Energía solar"),
    Query("", "Gasfitería Rápida Ñuñoa", product="Plumbing"),
    Query("servicio", "Casino Sabores del Valle", commune="rancagua"),
    Query("", "Protege EPP", commune="CALAMA"),
    Query("diseño", "Arquitectura Bordemar", commune="Viña del Mar"),
    Query("eventos", "Eventos Gala", product="Producción de eventos"),
)
