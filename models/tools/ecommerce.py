"""E-commerce: customer acquisition vs retention."""

from core import add_core, finish_core
from sdlib import Model

B = 'smb-benchmarks.md'
A = 'modelling assumption (no benchmark in smb-benchmarks.md)'


def build():
    m = Model('ecommerce', 'tightrope template: SMB online store',
              'An online store: about 25,000 active customers, $230K/month net revenue.')
    add_core(m, {
        'initial_cash': 350000, 'initial_cash_src': 'about 1.5 months of costs; ' + B,
        'initial_debt': 150000, 'revenue_init': 'initial_revenue_estimate',
        'fixed_costs': 10000, 'fixed_costs_src': A,
        'salary': 4500, 'salary_src': '$54K a year, blended; ' + A,
        'growth_investment_share': 0.2,
        'growth_investment_share_src': 'e-commerce marketing 10-30 % of revenue; ' + A,
        'payroll_budget_ratio': 0.3, 'payroll_src': A,
        'initial_headcount': 7,
        'initial_customers': 25000,
        'referral_rate': 0.03, 'referral_src': A,
        'base_churn_rate': 0.07, 'churn_src': 'a 14-month active life gives ~28 % repeat '
                                             'customers (opensend, omniconvert), ' + B,
        'initial_ideas': 10, 'initial_wip': 2, 'initial_features': 20,
        'ideas_per_person': 0.15, 'effort_per_feature': 0.6, 'feature_lifetime': 18,
    })
    m.const('initial_revenue_estimate', 235000, '$/Month',
            'Net revenue at month 0 (starting value of perceived revenue).', A)

    m.group = 'E-commerce: the key lever, acquisition and retention spend'
    m.const('acquisition_budget_share', 0.6, 'dimensionless',
            'Share of the marketing budget spent on acquiring new customers (the rest goes to '
            'retention: loyalty, CRM, after-sales care). Acquisition vs retention.', A,
            lever=(0.05, 0.95))
    m.aux('acquisition_spend', 'discretionary_budget * acquisition_budget_share', '$/Month',
          'Paid acquisition (ads, affiliates).')
    m.aux('retention_spend', 'discretionary_budget * (1 - acquisition_budget_share)', '$/Month',
          'Retention programmes.')
    m.const('cost_per_visit', 0.6, '$/visit', 'Paid cost per site visit.', A)
    m.const('reference_acquisition_spend', 30000, '$/Month',
            'Ad spend at which the cost per visit is the base cost.', A)
    m.aux('effect_of_spend_on_cost_per_visit',
          'acquisition_spend / reference_acquisition_spend', 'dimensionless',
          'Buying more traffic means bidding on worse keywords and audiences: the marginal '
          'visit costs more.', gf=([0, 1, 2, 3, 4], [0.85, 1, 1.25, 1.55, 1.9]))
    m.aux('paid_visits', 'acquisition_spend / (cost_per_visit * effect_of_spend_on_cost_per_visit)',
          'visits/Month', 'Paid visits.')
    m.const('base_conversion_rate', 0.025, 'customers/visit',
            'Visits that become first orders, with stock available and market price.',
            'global ~2.58 % (range 1-4 %; Monetate, Invesp), ' + B)
    m.const('price_premium', 0, 'dimensionless',
            'Price above (+) or below (-) competitors. Differentiation vs cost leadership: a '
            'premium raises margin per order and lowers conversion and repeat buying.', A,
            lever=(-0.2, 0.3))
    m.aux('effect_of_price_on_conversion', 'price_premium', 'dimensionless',
          'Shoppers compare prices.',
          gf=([-0.3, -0.15, 0, 0.15, 0.3, 0.5], [1.6, 1.3, 1, 0.75, 0.55, 0.35]))
    m.aux('perceived_availability', 'SMTH1(fill_rate, 1, 1)', 'dimensionless',
          'Availability as shoppers experience it.')
    m.aux('effect_of_availability_on_conversion', 'perceived_availability', 'dimensionless',
          'Out-of-stock pages do not convert.',
          gf=([0, 0.5, 0.8, 0.9, 1], [0, 0.4, 0.75, 0.88, 1]))
    m.aux('conversion_rate',
          'base_conversion_rate * effect_of_price_on_conversion * '
          'effect_of_availability_on_conversion', 'customers/visit', 'Visit-to-order rate.')
    m.aux('marketing_reach', 'paid_visits * conversion_rate', 'customers/Month',
          'First-time buyers paid acquisition would win at full potential.')
    m.aux('effect_of_service_on_word_of_mouth', 'service_quality', 'dimensionless',
          'Late deliveries and slow answers produce bad reviews.',
          gf=([0, 0.5, 0.8, 1, 1.2], [0.1, 0.4, 0.8, 1, 1.05]))
    m.aux('word_of_mouth_multiplier',
          'effect_of_service_on_word_of_mouth * effect_of_price_on_conversion * '
          'effect_of_product_on_conversion', 'dimensionless', 'Recommendations and reviews.')
    m.aux('effect_of_product_on_conversion', 'relative_product_strength', 'dimensionless',
          'Range, site and checkout features against competitors.',
          gf=([0, 0.5, 1, 1.5, 2], [0.6, 0.85, 1, 1.1, 1.15]))
    m.const('reference_retention_spend', 0.7, '$/customer/Month',
            'Retention spend per active customer at which the programmes have normal effect.', A)
    m.aux('retention_intensity', 'retention_spend / MAX(customers, 1) / reference_retention_spend',
          'dimensionless', 'Retention spend per customer relative to normal.')
    m.aux('customer_loyalty', 'SMTH1(retention_intensity, loyalty_adjustment_time, 1)',
          'dimensionless', 'Loyalty built by retention effort: it builds and fades slowly.')
    m.const('loyalty_adjustment_time', 6, 'Months', 'Time for loyalty to follow retention effort.',
            A)
    m.aux('effect_of_retention_on_churn', 'customer_loyalty', 'dimensionless',
          'Loyalty and after-sales care keep customers.',
          gf=([0, 0.5, 1, 2, 4], [1.9, 1.35, 1, 0.72, 0.6]))
    m.aux('effect_of_retention_on_repeat_purchase', 'customer_loyalty', 'dimensionless',
          'Personalised offers bring customers back.',
          gf=([0, 0.5, 1, 2, 4], [0.5, 0.8, 1, 1.3, 1.45]))
    m.aux('effect_of_stockouts_on_churn', 'perceived_availability', 'dimensionless',
          'Customers who find items out of stock go elsewhere.',
          gf=([0, 0.5, 0.8, 0.9, 1], [2, 1.6, 1.25, 1.1, 1]))
    m.aux('effect_of_price_on_churn', 'price_premium', 'dimensionless',
          'A premium loses price-sensitive repeat customers.',
          gf=([-0.3, 0, 0.3, 0.5], [0.85, 1, 1.25, 1.5]))
    m.aux('churn_multiplier',
          'effect_of_retention_on_churn * effect_of_stockouts_on_churn * effect_of_price_on_churn',
          'dimensionless', 'Sector effects on churn.')
    m.const('market_size', 500000, 'customers', 'Online shoppers in the store\'s niche.', A)

    m.group = 'E-commerce: orders, revenue, returns, fulfilment and service'
    m.const('base_repeat_purchase_rate', 0.04, 'orders/customer/Month',
            'Repeat orders per active customer per month at normal retention effort.',
            'returning customers ~1/3 of revenue (yotpo), ' + B)
    m.aux('repeat_orders',
          'customers * base_repeat_purchase_rate * effect_of_retention_on_repeat_purchase * '
          'effect_of_price_on_conversion ^ 0.5', 'orders/Month', 'Orders from returning customers.')
    m.aux('first_orders', 'customer_acquisition', 'orders/Month',
          'Every new customer places a first order.')
    m.aux('orders_placed', 'first_orders + repeat_orders', 'orders/Month', 'Orders placed.')
    m.const('units_per_order', 1.5, 'units/order', 'Items per order.', A)
    m.aux('demand_units', 'orders_placed * units_per_order', 'units/Month', 'Items ordered.')
    m.const('minimum_shipping_time', 0.5, 'Months',
            'Fastest the warehouse can turn its whole stock into shipments.', A)
    m.aux('stock_coverage_ratio',
          'inventory / MAX(demand_units * inventory_coverage, 0.001)', 'dimensionless',
          'Stock against what current demand needs (1 = the target coverage).')
    m.aux('item_availability', 'stock_coverage_ratio', 'dimensionless',
          'Share of ordered items in stock: as coverage falls, more SKUs run out.',
          gf=([0, 0.25, 0.5, 0.75, 1], [0, 0.55, 0.8, 0.94, 1]))
    m.flow('shipments',
           'MIN(demand_units * item_availability, inventory / minimum_shipping_time)',
           'units/Month', 'Items shipped (orders for items out of stock are lost).')
    m.aux('fill_rate', 'shipments / MAX(demand_units, 0.001)', 'dimensionless',
          'Share of demand served from stock.')
    m.aux('orders_shipped', 'shipments / units_per_order', 'orders/Month', 'Orders shipped.')
    m.const('average_order_value', 96, '$/order', 'Average order value at market price.', A)
    m.const('base_return_rate', 0.176, 'dimensionless', 'Share of online sales returned.',
            'NRF & Appriss 2023: online returns 17.6 %, ' + B)
    m.aux('effect_of_service_on_returns', 'service_quality', 'dimensionless',
          'Wrong or late orders come back more often.',
          gf=([0, 0.5, 1, 1.5], [1.6, 1.3, 1, 0.95]))
    m.aux('return_rate', 'base_return_rate * effect_of_service_on_returns', 'dimensionless',
          'Share of shipped value returned and refunded.')
    m.aux('revenue',
          'orders_shipped * average_order_value * (1 + price_premium) * (1 - return_rate)',
          '$/Month', 'Net revenue after refunds.')
    m.flow('returned_units', 'shipments * return_rate * restock_share', 'units/Month',
           'Returned items put back on sale.')
    m.const('restock_share', 0.8, 'dimensionless', 'Returned items that can be resold.', A)
    m.const('unit_cost', 24, '$/unit', 'Landed cost per item (product gross margin about 55-60 %).', A)
    m.const('fulfilment_cost_per_order', 9, '$/order',
            'Pick, pack, ship (3PL) per order shipped.',
            'fulfilment 10-15 % of e-commerce revenue (rushorder, Shopify), ' + B)
    m.const('cost_per_return', 6, '$/order', 'Handling cost per returned order.', A)
    m.aux('fulfilment_costs', 'orders_shipped * fulfilment_cost_per_order', '$/Month',
          'Fulfilment costs.')
    m.aux('variable_costs',
          'inventory_receipts * unit_cost + fulfilment_costs + '
          'orders_shipped * return_rate * cost_per_return', '$/Month',
          'Stock bought (paid on receipt), fulfilment and returns handling.')
    m.const('orders_per_person', 500, 'orders/person/Month',
            'Orders one service/operations employee handles per month.', A)
    m.aux('service_capacity', 'effective_headcount * orders_per_person', 'orders/Month',
          'Orders service and operations can handle well.')
    m.aux('service_quality',
          'SMTH1(MIN(1.2, service_capacity / MAX(orders_placed, 1)), 1, 1)', 'dimensionless',
          'Service as customers experience it: capacity over orders, smoothed over a month '
          '(below 1: overwhelmed, late deliveries and slow answers).')
    m.const('target_utilisation', 0.9, 'dimensionless', 'Utilisation staffing aims for.', A)
    m.aux('required_headcount', 'orders_placed / orders_per_person / target_utilisation',
          'people', 'Service and operations staff the order volume needs.')

    m.group = 'E-commerce: inventory and purchasing (stock-outs)'
    m.stock('inventory', 'desired_inventory', 'units', 'Items in the warehouse.',
            inflows=['inventory_receipts', 'returned_units'], outflows=['shipments'])
    m.stock('inventory_on_order', 'forecast_demand * supplier_lead_time', 'units',
            'Items ordered from suppliers, not yet received (supply line).',
            inflows=['purchase_orders'], outflows=['inventory_receipts'])
    m.aux('forecast_demand', 'SMTH1(demand_units, forecast_time)', 'units/Month',
          'Demand forecast (exponential smoothing: lags fast growth).')
    m.const('forecast_time', 3, 'Months', 'Smoothing time of the demand forecast.', A)
    m.const('inventory_coverage', 1.6, 'Months',
            'Desired stock in months of forecast demand (about 7.5 turns/year).',
            'inventory turns 5-10/yr (inventorycontroller.org, Census), ' + B)
    m.aux('desired_inventory', 'forecast_demand * inventory_coverage', 'units', 'Target stock.')
    m.const('supplier_lead_time', 1.5, 'Months', 'Supplier lead time.', A)
    m.const('inventory_adjustment_time', 2, 'Months', 'Time to correct a stock gap.', A)
    m.flow('purchase_orders',
           'MAX(0, forecast_demand + (desired_inventory - inventory) / inventory_adjustment_time'
           ' + (forecast_demand * supplier_lead_time - inventory_on_order) / '
           'inventory_adjustment_time - returned_units)', 'units/Month',
           'Replenishment orders (anchor and adjust, with the supply line).')
    m.flow('inventory_receipts', 'DELAY3(purchase_orders, supplier_lead_time)', 'units/Month',
           'Deliveries from suppliers (third-order delay).')

    m.group = 'E-commerce: product (site, range) features'
    m.aux('development_capacity', 'effective_headcount * development_share',
          'person-months/Month', 'Effort on site and range improvements.')
    m.const('development_share', 0.1, 'dimensionless',
            'Share of staff time on site and range improvements.', A)
    m.const('development_time', 2, 'Months', 'Time to build a site feature or new range.', A)
    finish_core(m)
    return m
