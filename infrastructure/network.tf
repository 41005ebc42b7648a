# Private mode (network_mode = "private"): a VNet with one subnet for the function app's outbound
# traffic and one delegated to PostgreSQL, which then has no public endpoint at all.

resource "azurerm_virtual_network" "main" {
  count               = local.private_network ? 1 : 0
  name                = "vnet-${local.base}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  address_space       = [var.vnet_address_space]
  tags                = local.tags
}

resource "azurerm_subnet" "functions" {
  count                = local.private_network ? 1 : 0
  name                 = "snet-functions"
  resource_group_name  = azurerm_resource_group.main.name
  virtual_network_name = azurerm_virtual_network.main[0].name
  address_prefixes     = [var.function_subnet_prefix]
  # All of the app's outbound traffic leaves through this subnet (Discogs, Storage, Key Vault,
  # Application Insights). Azure is retiring implicit outbound access for new subnets: keep it
  # explicit here, or set nat_gateway_enabled for a NAT gateway (and a fixed egress IP).
  default_outbound_access_enabled = !var.nat_gateway_enabled

  # Flex Consumption VNet integration requires a subnet delegated to Microsoft.App/environments.
  delegation {
    name = "flex-consumption"
    service_delegation {
      name    = "Microsoft.App/environments"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

resource "azurerm_subnet" "postgresql" {
  count                = local.private_network ? 1 : 0
  name                 = "snet-postgresql"
  resource_group_name  = azurerm_resource_group.main.name
  virtual_network_name = azurerm_virtual_network.main[0].name
  address_prefixes     = [var.postgresql_subnet_prefix]

  delegation {
    name = "postgresql-flexible-server"
    service_delegation {
      name    = "Microsoft.DBforPostgreSQL/flexibleServers"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

# Only the function subnet may open connections to PostgreSQL (5432 direct, 6432 PgBouncer).
resource "azurerm_network_security_group" "postgresql" {
  count               = local.private_network ? 1 : 0
  name                = "nsg-${local.base}-postgresql"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location

  security_rule {
    name                       = "allow-functions-postgresql"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_address_prefix      = var.function_subnet_prefix
    source_port_range          = "*"
    destination_address_prefix = var.postgresql_subnet_prefix
    destination_port_ranges    = ["5432", "6432"]
  }

  # Primary and standby (high availability) replicate inside the delegated subnet.
  security_rule {
    name                       = "allow-postgresql-subnet-internal"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_address_prefix      = var.postgresql_subnet_prefix
    source_port_range          = "*"
    destination_address_prefix = var.postgresql_subnet_prefix
    destination_port_range     = "*"
  }

  security_rule {
    name                       = "deny-other-vnet-inbound"
    priority                   = 4000
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_address_prefix      = "VirtualNetwork"
    source_port_range          = "*"
    destination_address_prefix = "*"
    destination_port_range     = "*"
  }

  tags = local.tags
}

resource "azurerm_subnet_network_security_group_association" "postgresql" {
  count                     = local.private_network ? 1 : 0
  subnet_id                 = azurerm_subnet.postgresql[0].id
  network_security_group_id = azurerm_network_security_group.postgresql[0].id
}

# The function subnet only originates traffic; nothing inside the VNet may connect to it.
resource "azurerm_network_security_group" "functions" {
  count               = local.private_network ? 1 : 0
  name                = "nsg-${local.base}-functions"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location

  security_rule {
    name                       = "deny-vnet-inbound"
    priority                   = 4000
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_address_prefix      = "VirtualNetwork"
    source_port_range          = "*"
    destination_address_prefix = "*"
    destination_port_range     = "*"
  }

  tags = local.tags
}

resource "azurerm_subnet_network_security_group_association" "functions" {
  count                     = local.private_network ? 1 : 0
  subnet_id                 = azurerm_subnet.functions[0].id
  network_security_group_id = azurerm_network_security_group.functions[0].id
}

resource "azurerm_private_dns_zone" "postgresql" {
  count               = local.private_network ? 1 : 0
  name                = "${local.base}.private.postgres.database.azure.com"
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "postgresql" {
  count               = local.private_network ? 1 : 0
  name                = "vnet-${local.base}"
  private_dns_zone_id = azurerm_private_dns_zone.postgresql[0].id
  virtual_network_id  = azurerm_virtual_network.main[0].id
  tags                = local.tags
}

# Optional NAT gateway for the function subnet: explicit outbound internet access that does not
# depend on implicit default outbound access, and one fixed egress IP (e.g. for allow-lists).
resource "azurerm_public_ip" "nat" {
  count               = local.private_network && var.nat_gateway_enabled ? 1 : 0
  name                = "pip-${local.base}-nat"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  allocation_method   = "Static"
  sku                 = "Standard"
  tags                = local.tags
}

resource "azurerm_nat_gateway" "main" {
  count                   = local.private_network && var.nat_gateway_enabled ? 1 : 0
  name                    = "ng-${local.base}"
  resource_group_name     = azurerm_resource_group.main.name
  location                = azurerm_resource_group.main.location
  sku_name                = "Standard"
  idle_timeout_in_minutes = 10
  tags                    = local.tags
}

resource "azurerm_nat_gateway_public_ip_association" "main" {
  count                = local.private_network && var.nat_gateway_enabled ? 1 : 0
  nat_gateway_id       = azurerm_nat_gateway.main[0].id
  public_ip_address_id = azurerm_public_ip.nat[0].id
}

resource "azurerm_subnet_nat_gateway_association" "functions" {
  count          = local.private_network && var.nat_gateway_enabled ? 1 : 0
  subnet_id      = azurerm_subnet.functions[0].id
  nat_gateway_id = azurerm_nat_gateway.main[0].id
}
