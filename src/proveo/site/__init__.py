"""The public pages people share and search engines index, rendered on the server: company
profiles at readable addresses, landing pages per category and place, the sitemap, robots.txt
and the HTML 404 page."""
